import CurlHTTP
import Foundation
import Testing
@testable import WAHASimulator
import WhagoCore
import WhagoTesting

/// The simulator fails where WAHA's engines fail, read from WAHA's source (core 2026.2; see
/// ``EngineProxy``): a session's `config.proxy` becomes the proxy its engine would connect through,
/// and the simulator connects through that, for real.
@Suite("The simulator's engines and their proxies, as WAHA's", .timeLimit(.minutes(5)))
struct EngineProxyTests {
    static func proxy(_ server: String, _ username: String? = nil, _ password: String? = nil) -> SessionConfigView.Proxy {
        SessionConfigView.Proxy(server: server, username: username, password: password)
    }

    @Test("GOWS glues http://user:password@server (getProxyUrl): HTTP only, the Go side decodes the user information")
    func gows() throws {
        let plain = try EngineProxy.resolve(Self.proxy("127.0.0.1:8080", "u", "p"), engine: "GOWS")
        #expect(plain.scheme == .http && plain.host == "127.0.0.1" && plain.port == 8080 && plain.username == "u" && plain.password == "p")
        // socks5://h:p becomes http://u:p@socks5://h:p: a proxy named socks5.
        #expect(throws: EngineProxy.Unusable.self) { try EngineProxy.resolve(Self.proxy("socks5://127.0.0.1:1080", "u", "p"), engine: "GOWS") }
        // Credentials as written: a / cuts the authority, % starts an escape.
        #expect(throws: EngineProxy.Unusable.self) { try EngineProxy.resolve(Self.proxy("127.0.0.1:8080", "u", "pa/ss"), engine: "GOWS") }
        #expect(throws: EngineProxy.Unusable.self) { try EngineProxy.resolve(Self.proxy("127.0.0.1:8080", "u", "100%zz"), engine: "GOWS") }
        let decoded = try EngineProxy.resolve(Self.proxy("127.0.0.1:8080", "whago%40user", "p%40ss%3Aw%2Frd%2541"), engine: "GOWS")
        #expect(decoded.username == "whago@user" && decoded.password == "p@ss:w/rd%41", "percent-encoded credentials reach the proxy as meant")
        // Only both credentials count; no name is resolved.
        #expect(try EngineProxy.resolve(Self.proxy("127.0.0.1:8080", "u", nil), engine: "GOWS").username == nil)
        #expect(throws: EngineProxy.Unusable.self) { try EngineProxy.resolve(Self.proxy("gw.dataimpulse.com:10000"), engine: "GOWS") }
    }

    @Test("NOWEB prefixes http:// unless http(s):// is written (createAgentProxy); credentials pass through the URL's encoding")
    func noweb() throws {
        let http = try EngineProxy.resolve(Self.proxy("127.0.0.1:8080", "u@x", "p/ss"), engine: "NOWEB")
        #expect(http.scheme == .http && http.port == 8080 && http.username == "u@x" && http.password == "p/ss")
        #expect(try EngineProxy.resolve(Self.proxy("https://127.0.0.1:8443"), engine: "NOWEB").scheme == .https)
        #expect(throws: EngineProxy.Unusable.self) { try EngineProxy.resolve(Self.proxy("socks5://127.0.0.1:1080", "u", "p"), engine: "NOWEB") }
    }

    @Test("WEBJS hands the server to Chromium as written: SOCKS5 without credentials works, with them it cannot authenticate")
    func webjs() throws {
        #expect(try EngineProxy.resolve(Self.proxy("127.0.0.1:8080", "u", "p"), engine: "WEBJS").scheme == .http)
        #expect(try EngineProxy.resolve(Self.proxy("socks5://127.0.0.1:1080"), engine: "WEBJS").scheme == .socks5)
        #expect(throws: EngineProxy.Unusable.self) { try EngineProxy.resolve(Self.proxy("socks5://127.0.0.1:1080", "u", "p"), engine: "WEBJS") }
    }
}

@Suite("A session through a real proxy, per engine", .timeLimit(.minutes(5)),
       .enabled(if: (TestServices.socks5 != nil && HTTPProxyServer.binary != nil) || TestServices.required))
struct EngineSessionTests {
    /// Creates a session with `proxy` on a simulator of `engine`; its status once settled.
    static func settle(engine: String, proxy: JSONValue) async throws -> (status: String, reason: String?) {
        let simulator = try await Simulator.start { $0.engine = engine }
        defer { simulator.stop() }
        try await simulator.call(.post, "/api/sessions", json: .object(["name": "proxied", "config": .object(["proxy": proxy])]))
        let deadline = ContinuousClock.now + .seconds(30)
        while true {
            let session = try await simulator.call(.get, "/api/sessions/proxied").json
            let status = session?["status"]?.stringValue ?? ""
            if ["SCAN_QR_CODE", "FAILED"].contains(status) { return (status, nil) }
            guard ContinuousClock.now < deadline else { return (status, nil) }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    @Test("through tinyproxy (HTTP, basic auth): GOWS and NOWEB reach SCAN_QR_CODE; a wrong password or a SOCKS5 server makes them FAILED",
          arguments: ["GOWS", "NOWEB"])
    func http(engine: String) async throws {
        let proxy = try await HTTPProxyServer.start(username: "di-user__cr.br", password: "di-pass")
        defer { Task { try? await proxy.stop() } }
        let socks = try #require(TestServices.socks5, Comment(rawValue: TestServices.missing("microsocks")))
        #expect(try await Self.settle(engine: engine, proxy: .object([
            "server": .string("127.0.0.1:\(proxy.port)"), "username": "di-user__cr.br", "password": "di-pass"])).status == "SCAN_QR_CODE")
        #expect(try await Self.settle(engine: engine, proxy: .object([
            "server": .string("127.0.0.1:\(proxy.port)"), "username": "di-user__cr.br", "password": "not-it"])).status == "FAILED")
        #expect(try await Self.settle(engine: engine, proxy: .object([
            "server": .string("socks5://127.0.0.1:\(socks.port)"), "username": .string(socks.username), "password": .string(socks.password)])).status == "FAILED",
                "WAHA makes a proxy named socks5 of it")
    }

    @Test("WEBJS: SOCKS5 with credentials is FAILED (Chromium cannot authenticate), an HTTP proxy with them works")
    func webjs() async throws {
        let proxy = try await HTTPProxyServer.start(username: "u", password: "p")
        defer { Task { try? await proxy.stop() } }
        let socks = try #require(TestServices.socks5, Comment(rawValue: TestServices.missing("microsocks")))
        #expect(try await Self.settle(engine: "WEBJS", proxy: .object(["server": .string("127.0.0.1:\(proxy.port)"), "username": "u", "password": "p"])).status
                == "SCAN_QR_CODE")
        #expect(try await Self.settle(engine: "WEBJS", proxy: .object([
            "server": .string("socks5://127.0.0.1:\(socks.port)"), "username": .string(socks.username), "password": .string(socks.password)])).status == "FAILED")
    }
}

@Suite("The simulator's other edges, as WAHA's", .timeLimit(.minutes(5)))
struct WAHAEdgeTests {
    @Test("webhook retries wait as WAHA's WebhookSender does: 2^k·d plus up to 20 % (exponential), k·d (linear), d (constant, and no policy), Retry-After when longer")
    func retrySchedule() {
        #expect(Sender.delay(retry: 1, policy: "exponential", delaySeconds: 2, retryAfter: 0, jitter: 0) == 4)
        #expect(Sender.delay(retry: 10, policy: "exponential", delaySeconds: 2, retryAfter: 0, jitter: 0) == 2048)
        #expect(Sender.delay(retry: 10, policy: "exponential", delaySeconds: 2, retryAfter: 0, jitter: 1) == 2048 * 1.2)
        #expect(Sender.delay(retry: 3, policy: "linear", delaySeconds: 2, retryAfter: 0, jitter: 1) == 6)
        #expect(Sender.delay(retry: 3, policy: "constant", delaySeconds: 2, retryAfter: 0, jitter: 1) == 2)
        #expect(Sender.delay(retry: 3, policy: nil, delaySeconds: 2, retryAfter: 0, jitter: 1) == 2)
        #expect(Sender.delay(retry: 1, policy: "constant", delaySeconds: 2, retryAfter: 30, jitter: 0) == 30, "Retry-After when longer")
        #expect(Sender.delay(retry: 4, policy: "exponential", delaySeconds: 0, retryAfter: 0, jitter: 1) == 0, "no delay: at once")
        // The default whago gives (10 retries of 2 s, exponential): the last comes 4,092 to 4,910 s after the event.
        let total = { (jitter: Double) in (1...10).reduce(0.0) { $0 + Sender.delay(retry: $1, policy: "exponential", delaySeconds: 2, retryAfter: 0, jitter: jitter) } }
        #expect(total(0) == 4_092 && abs(total(1) - 4_910.4) < 0.001)
    }

    @Test("a webhook URL WAHA's IsUrl refuses (an underscore in the host, no scheme, ftp) is a 400; localhost and IP addresses pass")
    func webhookURLs() async throws {
        let simulator = try await Simulator.start()
        defer { simulator.stop() }
        func create(_ name: String, _ url: String) async throws -> Int {
            try await simulator.call(.post, "/api/sessions", json: .object([
                "name": .string(name), "start": .bool(false), "config": .object(["webhooks": .array([.object(["url": .string(url), "events": .array(["*"])])])])])).status
        }
        #expect(try await create("a", "http://stack_whago:8080/hooks/waha/w1") == 400)
        #expect(try await create("b", "stack-whago:8080/hooks") == 400)
        #expect(try await create("c", "ftp://example.com/hooks") == 400)
        #expect(try await create("d", "http://localhost:8080/hooks") == 201)
        #expect(try await create("e", "http://127.0.0.1:8080/hooks") == 201)
        #expect(try await create("f", "https://whago.example.com/hooks/waha/w1") == 201)
        #expect(try await create("g", "http://[::1]:8080/hooks") == 201)
    }

    @Test("GET /api/version is WAHA's older alias; the deprecated /api/sessions/start|stop|logout take the name in the body; /me is empty before pairing")
    func deprecatedAndAliases() async throws {
        let simulator = try await Simulator.start()
        defer { simulator.stop() }
        let version = try await simulator.call(.get, "/api/version")
        let serverVersion = try await simulator.call(.get, "/api/server/version")
        #expect(version.status == 200 && version.json == serverVersion.json)
        #expect(try await simulator.call(.post, "/api/sessions/start", json: .object([:])).status == 422, "the name is required")
        let started = try await simulator.call(.post, "/api/sessions/start", json: .object(["name": "old"]))
        #expect(started.status == 201 && started.json?["name"] == "old", "created and started")
        try await simulator.waitForStatus("old", "SCAN_QR_CODE")
        #expect(try await simulator.call(.post, "/api/sessions/start", json: .object(["name": "old"])).status == 422, "already started")
        // Before pairing the engine has no account: WAHA's getMe returns null, which Nest answers as an empty 200.
        let me = try await simulator.call(.get, "/api/sessions/old/me")
        #expect(me.status == 200 && me.body.isEmpty)
        #expect(try await simulator.call(.post, "/api/sessions/stop", json: .object(["name": "old"])).status == 201)
        #expect(try await simulator.call(.get, "/api/sessions/old").json?["status"] == "STOPPED")
        #expect(try await simulator.call(.post, "/api/sessions/logout", json: .object(["name": "old"])).status == 201)
        #expect(try await simulator.call(.get, "/api/sessions/old").status == 404, "logged out and deleted")
    }
}

@Suite("Simulators sharing one session database, as WAHA's workers do", .timeLimit(.minutes(5)),
       .enabled(if: TestServices.postgresURL != nil || TestServices.required))
struct SharedStoreTests {
    static func worker(_ id: String, database: String, restartAll: Bool = false) async throws -> Simulator {
        try await Simulator.start { configuration in
            configuration.workerID = id
            configuration.sessionsDatabaseURL = database
            configuration.restartAllSessions = restartAll
        }
    }

    @Test("every worker lists the store's sessions (all=true), may start and delete another's; WHATSAPP_RESTART_ALL_SESSIONS starts every stored session at boot, stopped ones too")
    func sharedStore() async throws {
        let database = try await TestServices.freshDatabase("sim_shared")
        let first = try await Self.worker("w-one", database: database)
        try await first.call(.post, "/api/sessions", json: .object(["name": "one"]))
        try await first.call(.post, "/api/sessions", json: .object(["name": "idle", "start": .bool(false)]))
        try await first.waitForStatus("one", "SCAN_QR_CODE")
        let second = try await Self.worker("w-two", database: database)
        defer { second.stop() }
        try await second.call(.post, "/api/sessions", json: .object(["name": "two"]))
        // Every worker's sessions, the others' as STOPPED; without all=true only its running ones.
        try await waitUntilListed(second, ["idle", "one", "two"])
        #expect(try await second.call(.get, "/api/sessions").json?.arrayValue?.compactMap { $0["name"]?.stringValue } == ["two"])
        #expect(try await second.call(.get, "/api/sessions/one").json?["status"] == "STOPPED", "another worker's session, read here")
        #expect(try await second.call(.post, "/api/sessions", json: .object(["name": "one"])).status == 422, "the name is taken in the store")
        // A DELETE on any worker removes the session from the store, whoever runs it.
        #expect(try await second.call(.delete, "/api/sessions/idle").status == 200)
        try await waitUntilListed(first, ["one", "two"])

        // A worker restarted with WHATSAPP_RESTART_ALL_SESSIONS starts every stored session: the
        // other worker's too (one account running twice).
        first.stop()
        let restarted = try await Self.worker("w-one", database: database, restartAll: true)
        defer { restarted.stop() }
        try await restarted.waitForStatus("two", "SCAN_QR_CODE")
        let starts = try await restarted.call(.get, "/_sim/starts").json
        #expect(starts?["one"] == .number(1) && starts?["two"] == .number(1), "\(String(describing: starts))")
    }

    @Test("WAHA_WORKER_RESTART_SESSIONS (the default): a restarted worker starts its own running sessions only")
    func ownRestart() async throws {
        let database = try await TestServices.freshDatabase("sim_own")
        let first = try await Self.worker("w-a", database: database)
        try await first.call(.post, "/api/sessions", json: .object(["name": "mine"]))
        try await first.call(.post, "/api/sessions", json: .object(["name": "stopped", "start": .bool(false)]))
        let second = try await Self.worker("w-b", database: database)
        defer { second.stop() }
        try await second.call(.post, "/api/sessions", json: .object(["name": "theirs"]))
        try await first.waitForStatus("mine", "SCAN_QR_CODE")
        try await waitUntilListed(first, ["mine", "stopped", "theirs"])
        first.stop()
        let restarted = try await Self.worker("w-a", database: database)
        defer { restarted.stop() }
        try await restarted.waitForStatus("mine", "SCAN_QR_CODE")
        #expect(try await restarted.call(.get, "/_sim/starts").json == .object(["mine": .number(1)]))
    }

    /// Waits until the worker's `GET /api/sessions?all=true` names exactly `names`.
    private func waitUntilListed(_ simulator: Simulator, _ names: [String]) async throws {
        let deadline = ContinuousClock.now + .seconds(20)
        var last: [String] = []
        while ContinuousClock.now < deadline {
            last = try await simulator.call(.get, "/api/sessions?all=true").json?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? []
            if last == names { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        Issue.record("listed \(last), not \(names)")
    }
}
