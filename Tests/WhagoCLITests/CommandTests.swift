import CurlHTTP
import Foundation
import WhagoCore
import Testing
import WhagoTesting
@testable import whago

@Suite("whago doctor, drivers, version and --help", .timeLimit(.minutes(10)))
struct CommandTests {
    @Test("doctor prints one ok line per driver on the embedded default, and the listen address and workers' ports")
    func doctorOK() async throws {
        let directory = try TemporaryDirectory("doctor")
        defer { directory.remove() }
        let port = try freePort()
        let range = try freePortRange(count: 3)
        let result = try await whago("doctor", "--set", "server.dataDir=\(directory.path)", "--set", "server.listen=127.0.0.1:\(port)",
                                     "--set", "runtime.local.ports=\(range.lowerBound)-\(range.upperBound)")
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(lines.map { String($0.prefix(17)) } == [
            "config    ok     ", "data      ok     ", "key       ok     ", "runtime   ok     ", "sessions  ok     ", "proxy     ok     ",
            "store     ok     ", "webhooks  ok     ", "listen    ok     ", "ports     ok     ",
        ])
        #expect(lines[2].contains("none yet: serve generates one into \(directory.path)/master-key"))
        #expect(lines[6].contains("file: store directory '\(directory.path)/store' does not exist yet"), "\(lines[6])")
        #expect(lines[8] == "listen    ok       server.listen: 127.0.0.1:\(port) is free")
        #expect(lines[9] == "ports     ok       runtime.local.ports: \(range.lowerBound)-\(range.upperBound): 3 free")
        #expect(!FileManager.default.fileExists(atPath: directory.file("store")), "doctor created no store")
        #expect(!FileManager.default.fileExists(atPath: directory.file("workers")), "nor the workers' directory")
    }

    @Test("doctor reads only: with no data directory it creates none; beside a running whago it reports the store, the address and the workers' ports in use by it, as information")
    func doctorBesideServe() async throws {
        let directory = try TemporaryDirectory("doctor-beside")
        defer { directory.remove() }
        let data = directory.file("data")
        let port = try freePort()
        let range = try freePortRange(count: 3)
        let settings = ["--set", "server.dataDir=\(data)", "--set", "server.listen=127.0.0.1:\(port)",
                        "--set", "runtime.local.ports=\(range.lowerBound)-\(range.upperBound)"]
        let fresh = try await ChildProcess.run(WhagoBinary.path, ["doctor"] + settings)
        #expect(fresh.status == 0, "\(fresh.stdout)")
        #expect(!FileManager.default.fileExists(atPath: data), "doctor created nothing: \(String(describing: try? FileManager.default.subpathsOfDirectory(atPath: data)))")

        let serve = try ChildProcess(WhagoBinary.path, ["serve"] + settings)
        defer { Self.killWorkers(under: "\(data)/workers") }
        try await serve.waitForOutput(containing: "whago is running")
        // A chip, so that a worker listens on the range's first port.
        let token = try String(contentsOfFile: "\(data)/admin-token", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        let tenant = try await Self.call(port, "POST", "/api/v1/tenants", token: token, body: #"{"name":"doctor"}"#)
        let key = try #require(tenant["apiKey"]?.stringValue)
        _ = try await Self.call(port, "POST", "/api/v1/chips", token: key, body: #"{"name":"one"}"#)
        let deadline = ContinuousClock.now + .seconds(60)
        while !acceptsConnections(port: range.lowerBound) {
            guard ContinuousClock.now < deadline else { Issue.record("no worker listened on \(range.lowerBound)"); break }
            try await Task.sleep(for: .milliseconds(50))
        }

        let beside = try await ChildProcess.run(WhagoBinary.path, ["doctor"] + settings)
        #expect(beside.status == 0, "\(beside.stdout)")
        let lines = beside.stdout.split(separator: "\n").map(String.init)
        let store = lines.first { $0.hasPrefix("store") } ?? ""
        #expect(store.hasPrefix("store     ok       file: store directory '\(data)/store'") && store.hasSuffix("is in use by the running whago (pid \(serve.pid))"), "\(store)")
        #expect(lines.contains("listen    ok       server.listen: 127.0.0.1:\(port) is in use by the running whago (pid \(serve.pid))"), "\(lines)")
        #expect(lines.contains("ports     ok       runtime.local.ports: \(range.lowerBound)-\(range.upperBound): 1 in use by whago's workers, 2 free"), "\(lines)")
        // The daemon went on undisturbed.
        #expect(try await Self.call(port, "GET", "/api/v1/chips", token: key)["chips"]?.arrayValue?.count == 1)
        serve.signal(SIGTERM)
        #expect(try await serve.waitForExit() == 0)
    }

    @Test("doctor on PostgreSQL reads only: a schema that does not exist is reported and still does not exist afterwards; once serve made it, its migration is reported",
          .enabled(if: TestServices.postgresURL != nil || TestServices.required))
    func doctorPostgres() async throws {
        let url = try #require(TestServices.postgresURL, Comment(rawValue: TestServices.missing("PostgreSQL")))
        let directory = try TemporaryDirectory("doctor-pg")
        defer { directory.remove() }
        let schema = "doctor_" + UUID().uuidString.prefix(8).lowercased()
        let range = try freePortRange(count: 2)
        let settings = ["--set", "server.dataDir=\(directory.path)/data", "--set", "server.listen=127.0.0.1:\(try freePort())",
                        "--set", "runtime.local.ports=\(range.lowerBound)-\(range.upperBound)",
                        "--set", "store.driver=postgres", "--set", "store.postgres.url=\(url)", "--set", "store.postgres.schema=\(schema)"]
        func schemaExists() async throws -> Bool {
            let answer = try await ChildProcess.run("/usr/bin/psql", [url, "-At", "-c", "SELECT count(*) FROM pg_namespace WHERE nspname = '\(schema)'"])
            return answer.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "1"
        }
        let fresh = try await ChildProcess.run(WhagoBinary.path, ["doctor"] + settings)
        #expect(fresh.status == 0, "\(fresh.stdout)")
        #expect(fresh.stdout.contains("store     ok       postgres: PostgreSQL reachable; schema \(schema) does not exist yet"), "\(fresh.stdout)")
        #expect(try await schemaExists() == false, "doctor created no schema")

        let serve = try ChildProcess(WhagoBinary.path, ["serve"] + settings)
        try await serve.waitForOutput(containing: "whago is running")
        serve.signal(SIGTERM)
        #expect(try await serve.waitForExit() == 0)
        #expect(try await schemaExists())
        let after = try await ChildProcess.run(WhagoBinary.path, ["doctor"] + settings)
        #expect(after.status == 0, "\(after.stdout)")
        #expect(after.stdout.contains("store     ok       postgres: PostgreSQL reachable, schema \(schema) at migration "), "\(after.stdout)")
        // Another master key than the one that sealed it is an error, found without writing.
        let other = try directory.write("other-key", "another-master-key-0123456789\n")
        let wrongKey = try await ChildProcess.run(WhagoBinary.path, ["doctor"] + settings + ["--set", "server.masterKey=file:\(other)"])
        #expect(wrongKey.status == 1, "\(wrongKey.stdout)")
        #expect(wrongKey.stdout.contains("store     error    postgres: "), "\(wrongKey.stdout)")
    }

    @Test("doctor reports a listen address and workers' ports that another program holds")
    func doctorBusyPorts() async throws {
        let directory = try TemporaryDirectory("doctor-busy")
        defer { directory.remove() }
        let taken = try SilentPort()
        let result = try await whago("doctor", "--set", "server.dataDir=\(directory.path)", "--set", "server.listen=127.0.0.1:\(taken.port)",
                                     "--set", "runtime.local.ports=\(taken.port)-\(taken.port)")
        #expect(result.status == 1, "a busy listen address is an error")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        let listen = lines.first { $0.hasPrefix("listen") } ?? ""
        #expect(listen.hasPrefix("listen    error    server.listen: cannot listen on 127.0.0.1:\(taken.port): address already in use (by "), "\(listen)")
        #expect(listen.contains("(pid \(getpid()))") && listen.contains("fix: stop what listens there, or choose another server.listen"))
        let ports = lines.first { $0.hasPrefix("ports") } ?? ""
        #expect(ports.hasPrefix("ports     warning  runtime.local.ports: \(taken.port): 1 port in use by other programs: \(taken.port) ("), "\(ports)")
        #expect(ports.contains("fix: stop those programs, or set runtime.local.ports to a range nothing else uses"))
    }

    /// A call to a `whago serve` on 127.0.0.1:`port`; its JSON answer.
    static func call(_ port: Int, _ method: String, _ path: String, token: String, body: String? = nil) async throws -> JSONValue {
        var request = HTTPClientRequest(HTTPClientRequest.Method(rawValue: method), "http://127.0.0.1:\(port)\(path)",
                                        headers: [("Authorization", "Bearer \(token)")], body: body.map { Array($0.utf8) }, timeout: .seconds(30))
        if body != nil { request.addHeader("Content-Type", "application/json") }
        let response = try await HTTPClient.shared.execute(request)
        return (try? JSONDecoder().decode(JSONValue.self, from: Data(response.body))) ?? .null
    }

    /// Kills the `local` workers a daemon left running under `directory` (whago leaves them on purpose).
    static func killWorkers(under directory: String) {
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let pid = Int32(entry), let environ = FileManager.default.contents(atPath: "/proc/\(entry)/environ"),
                  String(decoding: environ, as: UTF8.self).contains("WHAGO_WORKER_DIR=\(directory)/") else { continue }
            kill(pid, SIGKILL)
        }
    }

    @Test("doctor warns when the data directory or a file in it is open to other users")
    func doctorLooseModes() async throws {
        let directory = try TemporaryDirectory("doctor")
        defer { directory.remove() }
        let token = try directory.write("admin-token", "not-a-real-token\n")
        #expect(chmod(token, 0o644) == 0)
        let result = try await whago("doctor", "--set", "server.dataDir=\(directory.path)", "--set", "server.listen=127.0.0.1:\(try freePort())")
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
        let result = try await whago("doctor", "--set", "server.dataDir=\(directory.path)", "--set", "server.listen=127.0.0.1:\(try freePort())",
                                     "--set", "runtime.local.command.0=/nonexistent/waha")
        #expect(result.status == 1, "\(result.stderr)")
        #expect(result.stdout.contains("runtime   error    local: worker command '/nonexistent/waha' not found — fix: set runtime.local.command"), "\(result.stdout)\n\(result.stderr)")
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
