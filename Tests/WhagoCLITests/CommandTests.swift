import Foundation
import WhagoCore
import Testing
import WhagoTesting
@testable import whago

@Suite("whago doctor, drivers, version and --help", .timeLimit(.minutes(10)))
struct CommandTests {
    @Test("doctor prints one ok line per driver on the embedded default")
    func doctorOK() async throws {
        let directory = try TemporaryDirectory("doctor")
        defer { directory.remove() }
        let result = try await whago("doctor", "--set", "server.dataDir=\(directory.path)")
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(lines.map { String($0.prefix(17)) } == [
            "config    ok     ", "data      ok     ", "key       ok     ", "runtime   ok     ", "sessions  ok     ", "proxy     ok     ",
            "store     ok     ", "webhooks  ok     ",
        ])
        #expect(lines[2].contains("none yet: serve generates one into \(directory.path)/master-key"))
        #expect(lines[6].contains("file: data directory \(directory.path)/store"))
    }

    @Test("doctor warns when the data directory or a file in it is open to other users")
    func doctorLooseModes() async throws {
        let directory = try TemporaryDirectory("doctor")
        defer { directory.remove() }
        let token = try directory.write("admin-token", "not-a-real-token\n")
        #expect(chmod(token, 0o644) == 0)
        let result = try await whago("doctor", "--set", "server.dataDir=\(directory.path)")
        #expect(result.status == 0, "a warning does not fail doctor: \(result.stderr)")
        let line = try #require(result.stdout.split(separator: "\n").first { $0.hasPrefix("data") })
        #expect(line.hasPrefix("data      warning  server.dataDir: other users may read or enter \(token)"), "\(line)")
        #expect(line.contains("fix: chmod -R go-rwx \(directory.path)"))
        #expect(!result.stdout.contains("not-a-real-token"))
    }

    @Test("doctor reports an error with its fix and exits non-zero")
    func doctorError() async throws {
        let directory = try TemporaryDirectory("doctor")
        defer { directory.remove() }
        let result = try await whago("doctor", "--set", "server.dataDir=\(directory.path)", "--set", "runtime.local.command.0=/nonexistent/waha")
        #expect(result.status == 1)
        #expect(result.stdout.contains("runtime   error    local: worker command '/nonexistent/waha' not found — fix: set runtime.local.command"))
        #expect(result.stdout.contains("store     ok"))
    }

    @Test("drivers lists every compiled-in driver with a sample that its configuration accepts")
    func driversListing() async throws {
        let result = try await whago("drivers")
        #expect(result.status == 0)
        for name in ["local", "docker", "waha-plus", "none", "dataimpulse", "static", "file", "postgres"] {
            #expect(result.stdout.contains("  \(name)"), "\(name) is listed")
        }
        let directory = try TemporaryDirectory("drivers")
        defer { directory.remove() }
        let registry = DriverRegistry.compiledIn
        let defaults = ["runtime": "local", "sessions": "waha-plus", "proxy": "none", "store": "file"]
        for kind in DriverKind.allCases {
            for entry in registry.entries(of: kind) {
                var sections = defaults.filter { $0.key != kind.rawValue }.map { "\($0.key): {driver: \($0.value)}" }
                let sample = entry.sampleConfig.split(separator: "\n", omittingEmptySubsequences: false).map { "  \($0)" }.joined(separator: "\n")
                sections.append("\(kind):\n  driver: \(entry.name)\n\(sample)")
                let loader = ConfigLoader(environment: try sampleEnvironment(in: directory))
                let config = try loader.decode(Array(sections.joined(separator: "\n").utf8), source: "sample-\(entry.name)")
                #expect(config.driverLine.contains("\(kind)=\(entry.name)"))
            }
        }
    }

    @Test("--set overrides any value after parsing")
    func setOverrides() throws {
        let config = try ConfigLoader().load(path: nil, overrides: ["server.listen=127.0.0.1:18080", "store.file.path=/tmp/x", "limits.chipsPerTenant=3"])
        #expect(config.server.listen.description == "127.0.0.1:18080")
        #expect(config.limits.chipsPerTenant == 3)
        #expect(config.store.redactedSummary == "file path=/tmp/x compactEvery=10000 eventRetention=7d")
    }

    @Test("the embedded default is Config/whago.yaml")
    func embeddedDefault() throws {
        let file = try [UInt8](Data(contentsOf: URL(fileURLWithPath: "\(configDirectory)/whago.yaml")))
        #expect(PackageResources.whago_yaml == file)
        #expect(try ConfigLoader().load(path: nil).driverLine == "runtime=local sessions=waha-plus proxy=none store=file")
    }

    @Test("version and --help", arguments: [[], ["serve"], ["check-config"], ["doctor"], ["drivers"], ["version"]])
    func help(subcommand: [String]) async throws {
        let result = try await ChildProcess.run(WhagoBinary.path, subcommand + ["--help"])
        #expect(result.status == 0)
        #expect(result.stdout.contains("USAGE: whago"))
    }

    @Test("version prints the version")
    func version() async throws {
        let result = try await whago("version")
        #expect(result.stdout == "whago \(WhagoVersion.current)\n")
    }
}
