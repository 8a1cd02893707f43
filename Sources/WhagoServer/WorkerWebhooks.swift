import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Orchestrator
import ServiceLifecycle
import Synchronization
import WhagoCore

/// `POST /hooks/waha/{worker}`: a plain Hummingbird route (the HMAC needs the raw body and every
/// header), documented in openapi.yaml all the same.
///
/// The signature is checked before anything else (401 otherwise); the verified events are then
/// queued and the worker answered 202 at once, so a slow store never holds a worker's webhook
/// thread. Each worker has a budget of webhooks and bytes a second, counted once its signature
/// says which worker it is (429 with `Retry-After` beyond: WAHA retries), so a worker that floods
/// spends only its own; the queue is bounded in bytes for all (503 beyond). Events queued when whago dies
/// are not lost for good: status changes are read again by the health monitor's polls, and a
/// worker's retries bring the rest.
enum WorkerWebhookRoute {
    static let path = "/hooks/waha/{worker}"

    static func register<Context: RequestContext>(on router: Router<Context>, intake: WebhookIntake, ingest: WorkerWebhookIngest,
                                                  budget: WorkerWebhookBudget, metrics: ServerMetrics) {
        router.post(RouterPath(path)) { request, context -> Response in
            let worker = context.parameters.get("worker") ?? ""
            var request = request
            let buffer = try await request.collectBody(upTo: WebhookIntake.maximumBodySize)
            var headers: [String: String] = [:]
            for field in request.headers { headers[field.name.canonicalName] = field.value }
            let delivery: WebhookIntake.VerifiedDelivery
            do {
                delivery = try await intake.verify(worker: worker, body: Array(buffer: buffer), headers: headers)
            } catch let error as WhagoError {
                switch error.code {
                case .unauthorized:
                    metrics.workerWebhook("unauthorized")
                    throw ErrorResponse(.unauthorized, "unauthorized", "the webhook's signature does not verify with that worker's secret")
                case .invalidRequest, .protocolError:
                    metrics.workerWebhook("rejected")
                    throw ErrorResponse(.badRequest, "invalid_request", error.message)
                default:
                    throw error
                }
            }
            if let wait = budget.spend(worker: delivery.workerID, bytes: delivery.bytes) {
                metrics.workerWebhook("limited")
                throw ErrorResponse(.tooManyRequests, "rate_limited",
                                    "this worker sends more webhooks than whago takes from one worker (limits.workerWebhooks); retry",
                                    retryAfter: max(1, wait.seconds.rounded(.up)))
            }
            guard ingest.submit(delivery) else {
                metrics.workerWebhook("overloaded")
                throw ErrorResponse(.serviceUnavailable, "unavailable", "whago's webhook queue is full; retry", retryAfter: 1)
            }
            metrics.workerWebhook("accepted")
            var fields = HTTPFields()
            fields[.contentType] = "application/json"
            return Response(status: .accepted, headers: fields,
                            body: ResponseBody(byteBuffer: ByteBuffer(string: #"{"accepted":\#(delivery.count)}"#)))
        }
    }
}

/// Each worker's budget of webhooks: requests and bytes a second, as two token buckets keyed by
/// the worker that signed (never by what a body says).
final class WorkerWebhookBudget: Sendable {
    private let requests: RateLimiter
    private let bytes: RateLimiter

    init(_ limits: WorkerWebhookLimits, clock: @escaping @Sendable () -> ContinuousClock.Instant = { .now }) {
        requests = RateLimiter(rate: limits.requestsPerSecond, burst: limits.requestsPerSecond * 4, clock: clock)
        let perSecond = Double(limits.bytesPerSecond.bytes)
        bytes = RateLimiter(rate: 1, burst: Int(perSecond * 4), clock: clock, perSecond: perSecond)
    }

    /// Spends one webhook of `bytes` from the worker's budget: nil when it had them, else how
    /// long until it has (nothing is spent then).
    func spend(worker: String, bytes count: Int) -> Duration? {
        let now = requests.clock()
        // Both checked before either is taken: a refusal spends nothing.
        if let wait = bytes.peek(worker, cost: Double(count), now: now) ?? requests.peek(worker, now: now) { return wait }
        _ = bytes.acquire(worker, cost: Double(count), now: now)
        _ = requests.acquire(worker, now: now)
        return nil
    }
}

/// The queue between the webhook route and the orchestrator: verified deliveries applied in the
/// background, each worker's in the order they came (one lane per worker, by hash, so each chip's
/// too: a chip's events come from its worker), lanes in parallel (their store writes share the
/// file store's fsyncs), at most `capacity` bytes queued in all. On graceful shutdown (after the
/// HTTP server stopped) what is queued is applied.
public final class WorkerWebhookIngest: Service, Sendable {
    typealias Lane = (stream: AsyncStream<WebhookIntake.VerifiedDelivery>, continuation: AsyncStream<WebhookIntake.VerifiedDelivery>.Continuation)

    let intake: WebhookIntake
    let logger: Logger
    private let lanes: [Lane]
    /// The most bytes queued at once, and those queued now.
    let capacity: Int
    private let queued = Atomic<Int>(0)

    init(intake: WebhookIntake, lanes count: Int = 32, capacity: Int = 64 << 20, logger: Logger) {
        self.intake = intake
        self.logger = logger
        self.capacity = capacity
        self.lanes = (0..<max(count, 1)).map { _ in
            AsyncStream.makeStream(of: WebhookIntake.VerifiedDelivery.self, bufferingPolicy: .unbounded)
        }
    }

    /// Bytes queued now.
    var queuedBytes: Int { queued.load(ordering: .relaxed) }

    /// Queues a delivery; false when the queue holds too many bytes (or whago is stopping).
    func submit(_ delivery: WebhookIntake.VerifiedDelivery) -> Bool {
        let size = max(delivery.bytes, 1)
        guard queued.add(size, ordering: .acquiringAndReleasing).newValue <= capacity else {
            queued.subtract(size, ordering: .acquiringAndReleasing)
            return false
        }
        var hasher = Hasher()
        hasher.combine(delivery.workerID)
        let lane = lanes[Int(UInt(bitPattern: hasher.finalize()) % UInt(lanes.count))]
        if case .enqueued = lane.continuation.yield(delivery) { return true }
        queued.subtract(size, ordering: .acquiringAndReleasing)
        return false
    }

    public func run() async throws {
        await withDiscardingTaskGroup { group in
            for lane in lanes {
                group.addTask { [intake, logger] in
                    for await delivery in lane.stream {
                        await Self.apply(delivery, intake: intake, logger: logger)
                        self.queued.subtract(max(delivery.bytes, 1), ordering: .acquiringAndReleasing)
                    }
                }
            }
            group.addTask { [lanes] in
                try? await gracefulShutdown()
                for lane in lanes { lane.continuation.finish() }
            }
        }
    }

    /// Applies one delivery; a store that is down gets three tries.
    static func apply(_ delivery: WebhookIntake.VerifiedDelivery, intake: WebhookIntake, logger: Logger) async {
        for attempt in 1...3 {
            do {
                _ = try await intake.apply(delivery)
                return
            } catch let error as WhagoError where error.code == .unavailable && attempt < 3 {
                try? await Task.sleep(for: .milliseconds(200 * attempt))
            } catch {
                logger.warning("a worker's webhook was not applied: \(error)")
                return
            }
        }
    }
}
