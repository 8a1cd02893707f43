import CurlHTTP
import Foundation
import Hummingbird
import Logging
import ServiceLifecycle
import Testing
import WAHASimulator
import WhagoCore
import WhagoTesting

/// A simulator running in this process on a free port, with API key `test-key` and time scale 5
/// (start-up 0.2 s, first QR valid 12 s: long enough for a busy machine to fetch and scan it).
struct Simulator {
    let baseURL: String
    let port: Int
    private let group: ServiceGroup

    static let apiKey = "test-key"

    static func start(_ adjust: (inout SimulatorConfiguration) -> Void = { _ in }) async throws -> Simulator {
        var configuration = SimulatorConfiguration()
        configuration.port = 0
        configuration.apiKey = apiKey
        configuration.timeScale = 5
        configuration.excludedPaths = ["ping", "health"]
        adjust(&configuration)
        var logger = Logger(label: "waha-sim-test")
        logger.logLevel = .critical
        let server = try WAHASimulatorServer(configuration: configuration, logger: logger)
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        let app = server.makeApplication { port in continuation.yield(port) }
        let group = ServiceGroup(services: [app], gracefulShutdownSignals: [], cancellationSignals: [], logger: logger)
        Task { try await group.run() }
        for await port in ports { return Simulator(baseURL: "http://127.0.0.1:\(port)", port: port, group: group) }
        throw CancellationError()
    }

    /// Shuts the server down gracefully (no new connections, then in-flight ones finish).
    func stop() {
        let group = self.group
        Task { await group.triggerGracefulShutdown() }
    }

    /// Calls the simulator with the API key (unless `key` says otherwise).
    @discardableResult
    func call(_ method: HTTPClientRequest.Method, _ path: String, json: JSONValue? = nil, key: String? = apiKey,
              headers: [(name: String, value: String)] = []) async throws -> HTTPClientResponse {
        var request = HTTPClientRequest(method, baseURL + path, headers: headers, timeout: .seconds(20))
        if let key { request.addHeader("X-Api-Key", key) }
        if let json {
            request.body = Array(try JSONEncoder().encode(json))
            request.addHeader("Content-Type", "application/json")
        }
        return try await HTTPClient.shared.execute(request)
    }

    /// Polls `GET /api/sessions/{name}` until its status is `status` (failing after `timeout`).
    func waitForStatus(_ name: String, _ status: String, timeout: Duration = .seconds(20)) async throws {
        let deadline = ContinuousClock.now + timeout
        var last = ""
        while ContinuousClock.now < deadline {
            last = try await call(.get, "/api/sessions/\(name)").json?["status"]?.stringValue ?? ""
            if last == status { return }
            try await Task.sleep(for: .milliseconds(10))
        }
        Issue.record("session \(name) stayed \(last), never \(status)")
    }
}

extension HTTPClientResponse {
    var json: JSONValue? { try? JSONDecoder().decode(JSONValue.self, from: Data(body)) }
}

/// A webhook receiver on 127.0.0.1: records every request, and can fail the first ones with 500.
actor WebhookReceiver {
    struct Received: Sendable {
        var headers: [String: String]
        var body: [UInt8]
        var accepted: Bool
        var receivedAt = ContinuousClock.now
        var json: JSONValue? { try? JSONDecoder().decode(JSONValue.self, from: Data(body)) }
    }

    private(set) var received: [Received] = []
    private var failuresLeft: Int
    private var server: LoopbackServer?
    private(set) var url = ""

    init(failFirst: Int = 0) { failuresLeft = failFirst }

    func start() async throws {
        let router = Router()
        router.post("hook") { request, _ in
            let received = try await ReceivedRequest(request)
            let accepted = await self.record(headers: received.headers, body: received.body)
            return Response(status: accepted ? .ok : .internalServerError)
        }
        let server = try await LoopbackServer.start(router)
        self.server = server
        url = "http://127.0.0.1:\(server.port)/hook"
    }

    private func record(headers: [String: String], body: [UInt8]) -> Bool {
        let accepted = failuresLeft <= 0
        failuresLeft -= 1
        received.append(Received(headers: headers, body: body, accepted: accepted))
        return accepted
    }

    func stop() async { await server?.stop() }

    /// The `session.status` statuses received so far (accepted deliveries only), in order.
    func statuses(of session: String) -> [String] {
        received.filter(\.accepted).compactMap(\.json).filter { $0["event"]?.stringValue == "session.status" && $0["session"]?.stringValue == session }
            .compactMap { $0["payload"]?["status"]?.stringValue }
    }

    /// Waits until `condition` holds for what was received.
    func wait(timeout: Duration = .seconds(20), until condition: @Sendable ([Received]) -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while !condition(received) {
            guard ContinuousClock.now < deadline else {
                Issue.record("condition not met; received: \(received.compactMap(\.json))")
                return
            }
            try await Task.sleep(for: .milliseconds(10))
        }
    }
}

/// A session config with one webhook to `url`.
func webhookConfig(_ url: String, events: [String] = ["*"], hmacKey: String? = "hook-secret",
                   retries: JSONValue = .object(["policy": "constant", "delaySeconds": .number(1), "attempts": .number(5)]),
                   extra: [String: JSONValue] = [:]) -> JSONValue {
    var webhook: [String: JSONValue] = ["url": .string(url), "events": .array(events.map(JSONValue.string)), "retries": retries,
                                        "customHeaders": .array([.object(["name": "X-Tenant", "value": "t-42"])])]
    if let hmacKey { webhook["hmac"] = .object(["key": .string(hmacKey)]) }
    var config: [String: JSONValue] = ["webhooks": .array([.object(webhook)]), "metadata": .object(["whago.chip": "chip-1"])]
    for (key, value) in extra { config[key] = value }
    return .object(config)
}
