import CurlHTTP
import Foundation
import Hummingbird
import Orchestrator
import Synchronization
import Testing
import WAHAPlusProvider
public import WhagoCore
import WhagoRig
import WhagoServer
import WhagoTesting

/// whago's REST API as a client sees it: real HTTP to the rig's server, every JSON answer checked
/// against openapi.yaml (the operation found by its path template).
struct APIClient: Sendable {
    let base: String
    let admin: String
    static let contract: OpenAPIContract = {
        let spec = (try? JSONDecoder().decode(JSONValue.self, from: Data(OpenAPIDocument.json))) ?? .null
        return OpenAPIContract(spec: spec)
    }()

    struct Answer: Sendable {
        var status: Int
        var headers: [(name: String, value: String)]
        var body: [UInt8]
        var json: JSONValue { (try? JSONDecoder().decode(JSONValue.self, from: Data(body))) ?? .null }
        var text: String { String(decoding: body, as: UTF8.self) }
        func header(_ name: String) -> String? { headers.first { $0.name.lowercased() == name.lowercased() }?.value }
        /// The error code of an error answer.
        var code: String? { json["error"]?["code"]?.stringValue }
    }

    /// Calls `method path` with `key` as bearer (when given) and `json` as the body; a JSON
    /// answer must match the documented schema of its operation and status.
    @discardableResult
    func call(_ method: HTTPClientRequest.Method, _ path: String, key: String? = nil, json: JSONValue? = nil, body: String? = nil,
              headers: [(String, String)] = [], sourceLocation: SourceLocation = #_sourceLocation) async throws -> Answer {
        var request = HTTPClientRequest(method, base + path, timeout: .seconds(30))
        if let key { request.addHeader("Authorization", "Bearer \(key)") }
        for (name, value) in headers { request.addHeader(name, value) }
        if let json {
            request.addHeader("Content-Type", "application/json")
            request.body = Array(try JSONEncoder().encode(json))
        } else if let body {
            if !headers.contains(where: { $0.0.lowercased() == "content-type" }) { request.addHeader("Content-Type", "application/json") }
            request.body = Array(body.utf8)
        }
        let response = try await HTTPClient.shared.execute(request)
        let answer = Answer(status: response.status, headers: response.headers, body: response.body)
        #expect(answer.header("X-Request-Id")?.isEmpty == false, "every answer has a request id", sourceLocation: sourceLocation)
        if answer.header("Content-Type")?.hasPrefix("application/json") == true, let template = Self.template(of: path),
           Self.contract.spec["paths"]?[template]?[method.rawValue.lowercased()] != nil {
            let violations = Self.contract.violations(of: answer.json, method.rawValue, template, status: answer.status)
            #expect(violations.isEmpty, "\(method) \(template) \(answer.status) breaks openapi.yaml: \(violations)", sourceLocation: sourceLocation)
        }
        return answer
    }

    /// The documented template a concrete path matches (`/api/v1/chips/chip_1` → `/api/v1/chips/{chipId}`).
    static func template(of path: String) -> String? {
        let bare = String(path.split(separator: "?", maxSplits: 1).first ?? "")
        let parts = bare.split(separator: "/", omittingEmptySubsequences: false)
        let templates = Set(OpenAPIDocument.operations.map(\.path))
        // Literal segments win over parameters (`/chips/create` is not `/chips/{chipId}`).
        return templates.filter { template in
            let pattern = template.split(separator: "/", omittingEmptySubsequences: false)
            return pattern.count == parts.count && zip(pattern, parts).allSatisfy { $0.hasPrefix("{") || $0 == $1 }
        }.min { $0.filter { $0 == "{" }.count < $1.filter { $0 == "{" }.count }
    }

    /// Polls `GET /api/v1/chips/{id}` until `condition` holds.
    @discardableResult
    func waitForChip(_ id: String, key: String, _ what: String, timeout: Duration = .seconds(60),
                     until condition: @Sendable (Answer) -> Bool) async throws -> Answer {
        let deadline = ContinuousClock.now + timeout
        while true {
            let answer = try await call(.get, "/api/v1/chips/\(id)", key: key)
            if condition(answer) { return answer }
            guard ContinuousClock.now < deadline else {
                throw WhagoError(.timedOut, "chip \(id) never \(what); last: \(answer.status) \(answer.text)")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    /// A new tenant (its API key) with one chip waiting for its scan (its id).
    func tenantWithWaitingChip(_ tenant: String, chip name: String) async throws -> (key: String, chip: String) {
        let key = try #require(try await call(.post, "/api/v1/tenants", key: admin, json: ["name": .string(tenant)]).json["apiKey"]?.stringValue)
        let chip = try #require(try await call(.post, "/api/v1/chips", key: key, json: ["name": .string(name)]).json["id"]?.stringValue)
        try await waitForStatus(chip, key: key, "SCAN_QR_CODE")
        return (key, chip)
    }

    func waitForStatus(_ id: String, key: String, _ status: String, timeout: Duration = .seconds(60)) async throws {
        try await waitForChip(id, key: key, "became \(status)", timeout: timeout) { $0.json["status"]?.stringValue == status }
    }
}

/// Runs `body` with a rig that serves the REST API, then tears it down.
func withAPIRig(_ kind: StoreKind, ports: Int = 6, settings: OrchestratorConfig = testSettings(), limits: LimitsConfig = LimitsConfig(),
                webhooks: WebhooksConfig = testWebhooks(), proxy: OrchestratorRig.ProxyChoice = .none,
                rateLimitClock: @escaping @Sendable () -> ContinuousClock.Instant = { .now }, metricsToken: String? = nil,
                mediaURLs: MediaURLPolicy = MediaURLPolicy(),
                _ body: (OrchestratorRig, APIClient) async throws -> Void) async throws {
    let directory = try TemporaryDirectory("api")
    let store = try storeChoice(kind, schemaPrefix: "a_")
    let range = try freePortRange(count: ports)
    var api = OrchestratorRig.APIOptions(webhooks: webhooks)
    api.rateLimitClock = rateLimitClock
    api.metricsToken = metricsToken
    var options = OrchestratorRig.Options(directory: directory.path, store: store, ports: try PortRange(range.lowerBound, range.upperBound),
                                          settings: settings, limits: limits, api: api)
    options.proxy = proxy
    options.mediaURLs = mediaURLs
    let rig = try await OrchestratorRig.start(options)
    let client = APIClient(base: try #require(rig.apiURL), admin: api.adminToken)
    do {
        try await body(rig, client)
    } catch {
        await tearDown(rig, directory)
        throw error
    }
    await tearDown(rig, directory)
}

/// Tenant webhook delivery fast enough for a test.
func testWebhooks(maxAttempts: Int = 50) -> WebhooksConfig {
    // The receivers are on 127.0.0.1.
    WebhooksConfig(maxAttempts: maxAttempts, initialBackoff: .milliseconds(50), maxBackoff: .milliseconds(400), timeout: .seconds(5),
                   pollInterval: .milliseconds(50), concurrency: 8, allowPrivateNetworks: true)
}

/// A tenant's webhook receiver on 127.0.0.1: keeps every delivery, answers 503 while down.
final class TenantReceiver: Sendable {
    struct Delivery: Sendable {
        var headers: [String: String]
        var body: [UInt8]
        var receivedAt = ContinuousClock.now
        var json: JSONValue { (try? JSONDecoder().decode(JSONValue.self, from: Data(body))) ?? .null }
    }

    private let state = Mutex<(deliveries: [Delivery], down: Bool, refused: Int)>(([], false, 0))
    /// While hanging, requests are held unanswered: how many are held now, and the most at once.
    private let hold = Mutex<(hanging: Bool, now: Int, most: Int)>((false, 0, 0))
    private let server: LoopbackServer

    private init(server: LoopbackServer) {
        self.server = server
    }

    static func start() async throws -> TenantReceiver {
        let box = Box()
        let router = Router()
        router.post("/hook") { request, _ -> Response in
            let received = try await ReceivedRequest(request)
            guard let receiver = box.receiver else { return Response(status: .serviceUnavailable) }
            await receiver.holdWhileHanging()
            return receiver.receive(Delivery(headers: received.headers, body: received.body))
        }
        let receiver = TenantReceiver(server: try await LoopbackServer.start(router))
        box.receiver = receiver
        return receiver
    }

    var url: String { "http://127.0.0.1:\(server.port)/hook" }

    private func receive(_ delivery: Delivery) -> Response {
        state.withLock { state in
            if state.down {
                state.refused += 1
                return Response(status: .serviceUnavailable)
            }
            state.deliveries.append(delivery)
            return Response(status: .noContent)
        }
    }

    /// A receiver that hangs: each request waits, unanswered, until ``setHanging(_:)`` false.
    func setHanging(_ hanging: Bool) { hold.withLock { $0.hanging = hanging } }
    /// Requests held now; the most held at once.
    var held: (now: Int, most: Int) { hold.withLock { ($0.now, $0.most) } }

    private func holdWhileHanging() async {
        let held = hold.withLock { state -> Bool in
            guard state.hanging else { return false }
            state.now += 1
            state.most = max(state.most, state.now)
            return true
        }
        guard held else { return }
        while hold.withLock({ $0.hanging }) { try? await Task.sleep(for: .milliseconds(20)) }
        hold.withLock { $0.now -= 1 }
    }

    /// While down, every delivery is answered 503 (and counted).
    func setDown(_ down: Bool) { state.withLock { $0.down = down } }
    var refused: Int { state.withLock { $0.refused } }
    var deliveries: [Delivery] { state.withLock { $0.deliveries } }

    /// Waits until a delivery satisfies `condition`; returns it.
    @discardableResult
    func waitFor(_ what: String, timeout: Duration = .seconds(30), _ condition: @Sendable (Delivery) -> Bool) async throws -> Delivery {
        let deadline = ContinuousClock.now + timeout
        while true {
            if let found = deliveries.first(where: condition) { return found }
            guard ContinuousClock.now < deadline else {
                throw WhagoError(.timedOut, "no tenant webhook \(what) within \(timeout); got \(deliveries.map { $0.json["type"]?.stringValue ?? "?" })")
            }
            try await Task.sleep(for: .milliseconds(25))
        }
    }

    func stop() async { await server.stop() }

    private final class Box: @unchecked Sendable {
        private let lock = NSLock()
        private var value: TenantReceiver?
        var receiver: TenantReceiver? {
            get { lock.withLock { value } }
            set { lock.withLock { value = newValue } }
        }
    }
}

/// Runs `body` with a tenant webhook receiver, then stops it.
func withTenantReceiver(_ body: (TenantReceiver) async throws -> Void) async throws {
    let receiver = try await TenantReceiver.start()
    do {
        try await body(receiver)
    } catch {
        await receiver.stop()
        throw error
    }
    await receiver.stop()
}

/// An SSE client: collects a stream's events in the background until stopped.
final class EventStreamClient: Sendable {
    struct Event: Sendable {
        var id: String?
        var type: String?
        var data: JSONValue
    }

    private let events = Mutex<[Event]>([])
    private let firstID = Mutex<String?>(nil)
    /// The id of the stream's first block (the cursor it started after), once read.
    var startedAfter: String? { firstID.withLock { $0 } }
    private let task: Mutex<Task<Void, Never>?> = Mutex(nil)

    /// Opens `GET /api/v1/events` with `Accept: text/event-stream` and returns once it answered.
    static func open(_ api: APIClient, key: String, lastEventID: String? = nil, after: String? = nil,
                     client: HTTPClient = .shared) async throws -> EventStreamClient {
        var request = HTTPClientRequest(.get, api.base + "/api/v1/events" + (after.map { "?after=\($0)" } ?? ""), headers: [("Authorization", "Bearer \(key)"), ("Accept", "text/event-stream")],
                                        timeout: .seconds(600))
        if let lastEventID { request.addHeader("Last-Event-ID", lastEventID) }
        let response = try await client.stream(request)
        #expect(response.status == 200)
        #expect(response.header("Content-Type")?.hasPrefix("text/event-stream") == true)
        let client = EventStreamClient()
        client.task.withLock { $0 = Task { await client.read(response) } }
        return client
    }

    private func read(_ response: HTTPClientStreamingResponse) async {
        var current = Event(id: nil, type: nil, data: .null)
        do {
            for try await line in response.lines {
                if line.isEmpty {
                    if current.type != nil { events.withLock { $0.append(current) } }
                    current = Event(id: nil, type: nil, data: .null)
                } else if line.hasPrefix("id: ") {
                    current.id = String(line.dropFirst(4))
                    if current.type == nil { firstID.withLock { $0 = $0 ?? current.id } }
                } else if line.hasPrefix("event: ") {
                    current.type = String(line.dropFirst(7))
                } else if line.hasPrefix("data: ") {
                    current.data = (try? JSONDecoder().decode(JSONValue.self, from: Data(line.dropFirst(6).utf8))) ?? .null
                }
            }
        } catch {}
    }

    var received: [Event] { events.withLock { $0 } }

    /// Waits until an event satisfies `condition`; returns it.
    @discardableResult
    func waitFor(_ what: String, timeout: Duration = .seconds(30), _ condition: @Sendable (Event) -> Bool) async throws -> Event {
        let deadline = ContinuousClock.now + timeout
        while true {
            if let found = received.first(where: condition) { return found }
            guard ContinuousClock.now < deadline else {
                throw WhagoError(.timedOut, "no SSE event \(what) within \(timeout); got \(received.map { $0.type ?? "?" })")
            }
            try await Task.sleep(for: .milliseconds(25))
        }
    }

    func close() async {
        let task = self.task.withLock { $0 }
        task?.cancel()
        await task?.value
    }
}

// Request bodies written as literals in tests.
extension JSONValue: ExpressibleByDictionaryLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByBooleanLiteral, ExpressibleByArrayLiteral {
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(Dictionary(elements, uniquingKeysWith: { _, last in last }))
    }
    public init(integerLiteral value: Int) { self = .number(Double(value)) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
}

/// A virtual phone scans `value` on the chip's worker (`POST /_sim/scan`, with the worker's key);
/// returns the simulator's HTTP status.
func simulatorScan(_ rig: OrchestratorRig, chip: APIClient.Answer, value: String) async throws -> Int {
    let workerID = try #require(chip.json["worker"]?.stringValue)
    let worker = try #require(try await rig.store.worker(WorkerID(workerID)))
    let endpoint = rig.endpoint(of: worker)
    return try await HTTPClient.shared.execute(HTTPClientRequest(
        .post, endpoint.baseURL.absoluteString + "/_sim/scan",
        headers: [("Content-Type", "application/json"), ("X-Api-Key", endpoint.apiKey.revealed)],
        body: Array(try JSONEncoder().encode(["qr": value])))).status
}

/// `whago serve` settings for tests that run it as a process: background loops and webhook
/// delivery fast enough that tests wait seconds, not minutes, and a rate limit no test reaches.
func quickServeSettings(apiRequestsPerSecond: Int) -> [String] {
    ["orchestrator.healthInterval=1s", "orchestrator.reconcileInterval=2s", "orchestrator.leaderLeaseTTL=2s",
     "webhooks.pollInterval=50ms", "webhooks.initialBackoff=50ms", "webhooks.maxBackoff=300ms", "webhooks.timeout=1s",
     "limits.apiRequestsPerSecond=\(apiRequestsPerSecond)"].flatMap { ["--set", $0] }
}
