import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Orchestrator
import ServiceLifecycle
import WhagoCore

/// `POST /hooks/waha/{worker}`: a plain Hummingbird route (the HMAC needs the raw body and every
/// header), documented in openapi.yaml all the same.
///
/// The signature is checked before anything else (401 otherwise); the verified events are then
/// queued and the worker answered 202 at once, so a slow store never holds a worker's webhook
/// thread. A full queue is 503 with `Retry-After` (WAHA retries). Events queued when whago dies
/// are not lost for good: status changes are read again by the health monitor's polls, and a
/// worker's retries bring the rest.
enum WorkerWebhookRoute {
    static let path = "/hooks/waha/{worker}"

    static func register<Context: RequestContext>(on router: Router<Context>, intake: WebhookIntake, ingest: WorkerWebhookIngest,
                                                  metrics: ServerMetrics) {
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

/// The queue between the webhook route and the orchestrator: verified deliveries applied in the
/// background, each chip's in the order they came (one lane per chip, by hash), lanes in parallel
/// (their store writes share the file store's fsyncs). On graceful shutdown (after the HTTP server
/// stopped) what is queued is applied.
public final class WorkerWebhookIngest: Service, Sendable {
    typealias Lane = (stream: AsyncStream<WebhookIntake.VerifiedDelivery>, continuation: AsyncStream<WebhookIntake.VerifiedDelivery>.Continuation)

    let intake: WebhookIntake
    let logger: Logger
    private let lanes: [Lane]

    init(intake: WebhookIntake, lanes count: Int = 32, capacity: Int = 512, logger: Logger) {
        self.intake = intake
        self.logger = logger
        self.lanes = (0..<max(count, 1)).map { _ in
            AsyncStream.makeStream(of: WebhookIntake.VerifiedDelivery.self, bufferingPolicy: .bufferingOldest(capacity))
        }
    }

    /// Queues a delivery; false when its lane is full (or whago is stopping).
    func submit(_ delivery: WebhookIntake.VerifiedDelivery) -> Bool {
        var hasher = Hasher()
        hasher.combine(delivery.chip)
        let lane = lanes[Int(UInt(bitPattern: hasher.finalize()) % UInt(lanes.count))]
        if case .enqueued = lane.continuation.yield(delivery) { return true }
        return false
    }

    public func run() async throws {
        await withDiscardingTaskGroup { group in
            for lane in lanes {
                group.addTask { [intake, logger] in
                    for await delivery in lane.stream {
                        await Self.apply(delivery, intake: intake, logger: logger)
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
