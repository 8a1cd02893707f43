public import Foundation
public import WhagoCore

/// Workers as the admin sees them (`GET /api/v1/workers`, the `whago_workers` gauge): each with its
/// chips and its health.
public struct WorkerService: Sendable {
    let context: OrchestratorContext

    /// A worker's health, from its last passed probe.
    public enum Health: String, Sendable, CaseIterable {
        case healthy, unhealthy, unknown
    }

    /// One worker, its chip count and its health.
    public struct Summary: Sendable {
        public var worker: Worker
        public var chips: Int
        public var health: Health
    }

    /// How recent a passed probe must be for a worker to be healthy: the monitor records a passed
    /// probe at most once a minute, so a minute (and a few seconds) plus two health intervals.
    public var healthyWithin: TimeInterval { context.settings.healthInterval.duration.seconds * 2 + 65 }

    /// Healthy when a probe passed within ``healthyWithin``; unknown when none ever did.
    public func health(of worker: Worker, now: Date = Date()) -> Health {
        Self.health(of: worker, now: now, healthyWithin: healthyWithin)
    }

    /// Healthy when a probe passed within `healthyWithin`; unknown when none ever did.
    public static func health(of worker: Worker, now: Date, healthyWithin: TimeInterval) -> Health {
        guard let last = worker.lastHealthyAt else { return .unknown }
        return now.timeIntervalSince(last) <= healthyWithin ? .healthy : .unhealthy
    }

    /// Every worker, in id order, with its chips counted and its health.
    public func list(now: Date = Date()) async throws -> [Summary] {
        var counts: [WorkerID: Int] = [:]
        for chip in try await context.store.allChips() { if let worker = chip.worker { counts[worker, default: 0] += 1 } }
        return try await context.store.workers().map { worker in
            Summary(worker: worker, chips: counts[worker.id, default: 0], health: health(of: worker, now: now))
        }
    }
}
