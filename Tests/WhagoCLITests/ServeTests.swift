import Foundation
import Testing
import WhagoTesting

@Suite("whago serve", .timeLimit(.minutes(10)))
struct ServeTests {
    @Test("on the embedded default it starts, logs a redacted summary and stops cleanly on SIGTERM")
    func embeddedDefault() async throws {
        let directory = try TemporaryDirectory("serve")
        defer { directory.remove() }
        let port = try freePort()
        let daemon = try ChildProcess(WhagoBinary.path, ["serve", "--set", "server.dataDir=\(directory.path)/data",
                                                         "--set", "server.listen=127.0.0.1:\(port)"])
        try await daemon.waitForOutput(containing: "whago is running")
        // The orchestrator's loops run: this one process leads its installation.
        try await daemon.waitForOutput(containing: "leading the installation")
        let tokenPath = "\(directory.path)/data/admin-token"
        let attributes = try FileManager.default.attributesOfItem(atPath: tokenPath)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        let token = try String(contentsOfFile: tokenPath, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(token.count == 64)

        daemon.signal(SIGTERM)
        #expect(try await daemon.waitForExit() == 0)
        let log = daemon.standardError
        #expect(log.contains("generated an admin token in \(tokenPath)"))
        #expect(!log.contains(token))
        #expect(log.contains("config server: listen=127.0.0.1:\(port) publicURL=http://127.0.0.1:\(port)"))
        #expect(log.contains("config runtime: local"))
        #expect(log.contains("store driver 'file': ok"))
        #expect(log.contains("config orchestrator: healthInterval=15s"))
        #expect(log.contains("released the leadership"), "the next replica need not wait for the lease to run out")
        #expect(log.contains("stopped cleanly"))
        // Everything serve made in the data directory is private, so doctor has nothing to warn about.
        let doctor = try await ChildProcess.run(WhagoBinary.path, ["doctor", "--set", "server.dataDir=\(directory.path)/data"])
        #expect(doctor.stdout.contains("data      ok"), "\(doctor.stdout)")
        #expect(doctor.stdout.contains("key       ok       server.masterKey: \(directory.path)/data/master-key (key id"), "\(doctor.stdout)")
    }

    @Test("a listen address already in use: serve stops at once saying so, exits non-zero and leaves the data directory and the store as they were")
    func busyListenAddress() async throws {
        let directory = try TemporaryDirectory("serve-busy")
        defer { directory.remove() }
        let data = directory.file("data")
        // A first run makes the data directory and the store.
        let first = try ChildProcess(WhagoBinary.path, ["serve", "--set", "server.dataDir=\(data)", "--set", "server.listen=127.0.0.1:\(try freePort())"])
        try await first.waitForOutput(containing: "whago is running")
        first.signal(SIGTERM)
        #expect(try await first.waitForExit() == 0)
        let before = try Self.contents(of: data)
        #expect(before.keys.contains { $0.hasPrefix("store/") }, "the store exists: \(before.keys.sorted())")

        // Something else listens on the address.
        let taken = try SilentPort()
        let second = try ChildProcess(WhagoBinary.path, ["serve", "--set", "server.dataDir=\(data)", "--set", "server.listen=127.0.0.1:\(taken.port)"])
        let status = try await second.waitForExit(timeout: .seconds(60))
        #expect(status != 0, "exits non-zero")
        let log = second.standardError
        #expect(log.contains("cannot listen on 127.0.0.1:\(taken.port): address already in use"), "\(log)")
        #expect(!log.contains("whago is running"))
        #expect(try Self.contents(of: data) == before, "nothing in the data directory changed")
    }

    /// Every file under `directory` (relative path → contents).
    static func contents(of directory: String) throws -> [String: Data] {
        var files: [String: Data] = [:]
        let enumerator = FileManager.default.enumerator(atPath: directory)
        while let relative = enumerator?.nextObject() as? String {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: "\(directory)/\(relative)", isDirectory: &isDirectory), !isDirectory.boolValue else { continue }
            files[relative] = try Data(contentsOf: URL(fileURLWithPath: "\(directory)/\(relative)"))
        }
        return files
    }

    @Test("SIGINT stops it too, and a configured admin token is used and never logged")
    func sigint() async throws {
        let directory = try TemporaryDirectory("serve")
        defer { directory.remove() }
        let tokenFile = try directory.write("token", "configured-t0ken-value-0123456789abcdef\n")
        let daemon = try ChildProcess(WhagoBinary.path, ["serve", "--set", "server.dataDir=\(directory.path)/data",
                                                         "--set", "server.listen=127.0.0.1:\(try freePort())",
                                                         "--set", "server.adminToken=file:\(tokenFile)"])
        try await daemon.waitForOutput(containing: "whago is running")
        daemon.signal(SIGINT)
        #expect(try await daemon.waitForExit() == 0)
        #expect(!FileManager.default.fileExists(atPath: "\(directory.path)/data/admin-token"))
        #expect(!daemon.standardError.contains("configured-t0ken-value"))
        #expect(daemon.standardError.contains("adminToken=<redacted>"))
    }

    @Test("a second daemon on the same data directory refuses to start and names the first one's pid")
    func secondDaemon() async throws {
        let directory = try TemporaryDirectory("serve")
        defer { directory.remove() }
        let first = try ChildProcess(WhagoBinary.path, ["serve", "--set", "server.dataDir=\(directory.path)",
                                                        "--set", "server.listen=127.0.0.1:\(try freePort())"])
        try await first.waitForOutput(containing: "whago is running")
        let second = try await whago("serve", "--set", "server.dataDir=\(directory.path)", "--set", "server.listen=127.0.0.1:\(try freePort())")
        #expect(second.status == 1)
        #expect(second.stderr.contains("is locked by another whago (pid \(first.pid))"))
        first.signal(SIGTERM)
        #expect(try await first.waitForExit() == 0)
    }

    @Test("a driver whose health check fails stops serve with the reason and the fix")
    func unhealthyDriver() async throws {
        let directory = try TemporaryDirectory("serve")
        defer { directory.remove() }
        let socket = directory.file("no-docker.sock")
        let result = try await whago("serve", "--set", "server.dataDir=\(directory.path)", "--set", "server.listen=127.0.0.1:\(try freePort())",
                                     "--set", "runtime.driver=docker",
                                     "--set", "runtime.docker.socket=\(socket)")
        #expect(result.status == 1)
        #expect(result.stderr.contains("runtime driver 'docker': error: cannot reach the Docker daemon at unix://\(socket)"))
        #expect(result.stderr.contains("runtime.docker.socket"))
        #expect(result.stderr.contains("not starting"))
    }

    @Test("an invalid configuration stops it before anything starts")
    func invalidConfig() async throws {
        let directory = try TemporaryDirectory("serve")
        defer { directory.remove() }
        let result = try await whago("serve", "--set", "server.dataDir=\(directory.path)", "--set", "limits.chipsPerTenant=many")
        #expect(result.status == 1)
        #expect(result.stderr.contains("invalid configuration: --set limits.chipsPerTenant:1:1: limits.chipsPerTenant: expected a whole number, found 'many'"))
        #expect(!FileManager.default.fileExists(atPath: "\(directory.path)/admin-token"))
    }
}
