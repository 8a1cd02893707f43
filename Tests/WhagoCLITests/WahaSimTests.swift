import CurlHTTP
import Foundation
import Testing
import WhagoCore
import WhagoTesting

/// `whago waha-sim` as a real process.
private struct SimulatorProcess {
    let process: ChildProcess
    let port: Int

    /// - timeScale: 5 makes the first QR code valid 12 s; a test whose scan is a process of its own
    ///   (which a busy machine may take seconds to start) uses 1 (60 s).
    static func start(_ extra: [String] = [], timeScale: Int = 5, environment: [String: String] = [:]) async throws -> SimulatorProcess {
        let process = try ChildProcess(WhagoBinary.path, ["waha-sim", "--port", "0", "--time-scale", "\(timeScale)"] + extra,
                                       environment: environment)
        try await process.waitForOutput(containing: "WAHA simulator")
        let line = try #require(process.standardError.split(separator: "\n").first { $0.contains("WAHA simulator") && $0.contains("listening on") })
        let port = try #require(line.split(separator: ":").last.flatMap { Int($0.prefix(while: \.isNumber)) })
        return SimulatorProcess(process: process, port: port)
    }

    func call(_ method: HTTPClientRequest.Method, _ path: String, json: String? = nil, key: String? = "k") async throws -> HTTPClientResponse {
        var request = HTTPClientRequest(method, "http://127.0.0.1:\(port)\(path)", body: json.map { Array($0.utf8) })
        if let key { request.addHeader("X-Api-Key", key) }
        if json != nil { request.addHeader("Content-Type", "application/json") }
        return try await HTTPClient.shared.execute(request)
    }

    func status(_ session: String) async throws -> String? {
        let body = try await call(.get, "/api/sessions/\(session)").body
        return (try? JSONDecoder().decode(JSONValue.self, from: Data(body)))?["status"]?.stringValue
    }

    func waitFor(_ session: String, _ status: String) async throws {
        let deadline = ContinuousClock.now + .seconds(20)
        while try await self.status(session) != status {
            guard ContinuousClock.now < deadline else {
                Issue.record("\(session) never reached \(status)")
                return
            }
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    func stop() async throws {
        process.signal(SIGTERM)
        #expect(try await process.waitForExit() == 0)
    }
}

@Suite("whago waha-sim", .timeLimit(.minutes(10)))
struct WahaSimTests {
    @Test("the environment configures it as WAHA's does: PORT is overridden by --port, WAHA_API_KEY is enforced")
    func environment() async throws {
        let simulator = try await SimulatorProcess.start(environment: ["WAHA_API_KEY": "k", "WAHA_API_KEY_EXCLUDE_PATH": "ping", "WAHA_WORKER_ID": "w-9",
                                                                       "WHATSAPP_DEFAULT_ENGINE": "NOWEB"])
        #expect(try await simulator.call(.get, "/api/sessions", key: nil).status == 401)
        #expect(try await simulator.call(.get, "/ping", key: nil).status == 200)
        let version = try await simulator.call(.get, "/api/server/version").text
        #expect(version.contains("\"engine\":\"NOWEB\"") && version.contains("\"id\":\"w-9\""))
        try await simulator.stop()
    }

    @Test("sessions survive a restart with --data; a paired one comes back WORKING without a scan")
    func persistence() async throws {
        let directory = try TemporaryDirectory("sim-data")
        defer { directory.remove() }
        let first = try await SimulatorProcess.start(["--api-key", "k", "--data", directory.path])
        #expect(try await first.call(.post, "/api/sessions", json: #"{"name":"kept","config":{"metadata":{"whago.chip":"c1"}}}"#).status == 201)
        #expect(try await first.call(.post, "/api/sessions", json: #"{"name":"parked","start":false}"#).status == 201)
        try await first.waitFor("kept", "SCAN_QR_CODE")
        #expect(try await first.call(.post, "/_sim/sessions/kept/pair").status == 200)
        try await first.stop()
        // The sessions hold webhook keys and proxy passwords: only the owner reads them.
        let mode = try FileManager.default.attributesOfItem(atPath: directory.file("sessions.json"))[.posixPermissions] as? Int
        #expect(mode == 0o600)

        let second = try await SimulatorProcess.start(["--api-key", "k", "--data", directory.path])
        try await second.waitFor("kept", "WORKING")
        #expect(try await second.status("parked") == "STOPPED")
        let kept = try await second.call(.get, "/api/sessions/kept").text
        #expect(kept.contains("\"whago.chip\":\"c1\""))
        #expect(kept.contains("\"me\":{"))
        try await second.stop()
    }

    @Test("`whago waha-sim --help` lists the simulator's options and the scan command; `serve` is the same command")
    func help() async throws {
        for arguments in [["waha-sim", "--help"], ["waha-sim", "serve", "--help"]] {
            let result = try await ChildProcess.run(WhagoBinary.path, arguments)
            #expect(result.status == 0)
            for option in ["--port", "--host", "--api-key", "--time-scale", "--data", "--probe-url", "--public-url", "--log-level"] {
                #expect(result.stdout.contains(option), "\(arguments.joined(separator: " ")) lists \(option): \(result.stdout)")
            }
        }
        let root = try await ChildProcess.run(WhagoBinary.path, ["waha-sim", "--help"])
        #expect(root.stdout.contains("scan"), "and the virtual phone")
    }

    @Test("`whago waha-sim scan` pairs a session from its QR value, once")
    func scanCommand() async throws {
        let simulator = try await SimulatorProcess.start(["--api-key", "k"], timeScale: 1)
        #expect(try await simulator.call(.post, "/api/sessions", json: #"{"name":"demo"}"#).status == 201)
        try await simulator.waitFor("demo", "SCAN_QR_CODE")
        let raw = try await simulator.call(.get, "/api/demo/auth/qr?format=raw").body
        let value = try #require((try? JSONDecoder().decode(JSONValue.self, from: Data(raw)))?["value"]?.stringValue)
        let scanned = try await whago("waha-sim", "scan", value)
        #expect(scanned.status == 0, "\(scanned.stderr)")
        #expect(scanned.stdout.hasPrefix("paired session demo as 55119"))
        #expect(try await simulator.status("demo") == "WORKING")
        let again = try await whago("waha-sim", "scan", value)
        #expect(again.status == 1)
        #expect(again.stderr.contains("scan refused (410)"))
        let bogus = try await whago("waha-sim", "scan", "http://example.invalid/")
        #expect(bogus.status != 0)
        try await simulator.stop()
    }
}
