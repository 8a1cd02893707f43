import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Orchestrator
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
                    throw ErrorResponse("unauthorized", "the webhook's signature does not verify with that worker's secret")
                case .invalidRequest, .protocolError:
                    metrics.workerWebhook("rejected")
                    throw ErrorResponse("invalid_json", error.message)
                default:
                    throw error
                }
            }
            if let wait = budget.spend(worker: delivery.workerID, bytes: delivery.bytes) {
                metrics.workerWebhook("limited")
                throw ErrorResponse("rate_limited",
                                    "this worker sends more webhooks than whago takes from one worker (limits.workerWebhooks); retry",
                                    retryAfter: max(1, wait.seconds.rounded(.up)))
            }
            guard ingest.submit(delivery) else {
                metrics.workerWebhook("overloaded")
                throw ErrorResponse("unavailable", "whago's webhook queue is full; retry", retryAfter: 1)
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
