import Foundation
import Logging
public import ServiceLifecycle
import Synchronization
import WhagoCore

/// The queue between the webhook receiver (WhagoServer's `POST /hooks/waha/{worker}`) and
/// ``WebhookIntake``: verified deliveries applied in the background, each worker's in the order they came (one lane per worker, by hash, so each chip's
/// too: a chip's events come from its worker), lanes in parallel (their store writes share the
/// file store's fsyncs), at most `capacity` bytes queued in all. On graceful shutdown (after the
/// HTTP server stopped) what is queued is applied.
public final class WorkerWebhookIngest: Service, Sendable {
    typealias Lane = (stream: AsyncStream<WebhookIntake.VerifiedDelivery>, continuation: AsyncStream<WebhookIntake.VerifiedDelivery>.Continuation)

    let intake: WebhookIntake
    let logger: Logger
    private let lanes: [Lane]
    /// The most bytes queued at once, and those queued now.
    public let capacity: Int
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
    public var queuedBytes: Int { queued.load(ordering: .relaxed) }

    /// Queues a delivery; false when the queue holds too many bytes (or whago is stopping).
    public func submit(_ delivery: WebhookIntake.VerifiedDelivery) -> Bool {
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
