import Testing
import YAMLConfig

@Suite("--set key.path=value overrides", .timeLimit(.minutes(3)))
struct SetOverrideTests {
    @Test("replaces a value, creates missing mappings and keeps the rest")
    func setValues() throws {
        var root = try parse("server:\n  listen: 127.0.0.1:8080\n  dataDir: .whago\n")
        try root.set("server.listen", to: "127.0.0.1:18080", source: "--set server.listen")
        try root.set("store.file.path", to: "/tmp/x", source: "--set store.file.path")
        #expect(root["server"]?["listen"]?.scalar == "127.0.0.1:18080")
        #expect(root["server"]?["listen"]?.mark.description == "--set server.listen:1:1")
        #expect(root["server"]?["dataDir"]?.scalar == ".whago")
        #expect(root["store"]?["file"]?["path"]?.scalar == "/tmp/x")
    }

    @Test("indexes and appends to sequences")
    func sequences() throws {
        var root = try parse("command: [whago, serve]")
        try root.set("command.1", to: "waha-sim", source: "--set")
        try root.set("command.2", to: "--port", source: "--set")
        #expect(root["command"]?.sequence?.map(\.scalar) == ["whago", "waha-sim", "--port"])
        #expect(throws: YAMLError.self) { try root.set("command.9", to: "x", source: "--set") }
        try root.set("runtime.local.command.0", to: "/bin/true", source: "--set")
        #expect(root["runtime"]?["local"]?["command"]?.sequence?.map(\.scalar) == ["/bin/true"])
    }

    @Test("fills an empty value and refuses to go through a scalar")
    func throughScalars() throws {
        var root = try parse("store:\nserver: text\n")
        try root.set("store.driver", to: "file", source: "--set")
        #expect(root["store"]?["driver"]?.scalar == "file")
        #expect(throws: YAMLError.self) { try root.set("server.listen", to: "x", source: "--set") }
        #expect(throws: YAMLError.self) { try root.set("a..b", to: "x", source: "--set") }
        #expect(throws: YAMLError.self) { try root.set("", to: "x", source: "--set") }
    }
}
