import CoreMetrics
import Foundation
import Metrics
import Orchestrator
public import Prometheus
import Synchronization
import WhagoCore

/// whago's metrics, in Prometheus' text format at `GET /metrics`.
///
/// Request durations and delivery counts are swift-metrics instruments made with this server's
/// own ``factory`` (so two servers in one test process do not share them); the gauges of
/// chips, workers and the outbox are read from the store at scrape time.
public final class ServerMetrics: Sendable {
    /// The registry `/metrics` renders. `whago serve` also bootstraps swift-metrics with it.
    public let registry: PrometheusCollectorRegistry
    public let factory: PrometheusMetricsFactory
    /// The request histograms made so far (the factory's lookup costs more than the recording).
    private let timers = Mutex<[RequestKey: Metrics.Timer]>([:])
    /// The orchestrator's counts as last exported.
    private let exported = Mutex<[OrchestratorCounters.Name: Int]>([:])
    /// When the store's gauges (chips, workers, outbox) were last read.
    private let gaugesReadAt = Mutex<ContinuousClock.Instant?>(nil)
    /// The store's gauges are read at most once in this, however often /metrics is scraped (a
    /// scrape in between shows the last reading).
    public let gaugeInterval: Duration

    /// Seconds: from 1 ms to 10 s.
    static let durationBuckets: [Duration] = [
        .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
        .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(10),
    ]

    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry(), gaugeInterval: Duration = .seconds(10)) {
        self.registry = registry
        self.gaugeInterval = gaugeInterval
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.durationHistogramBuckets["whago_http_request_duration_seconds"] = Self.durationBuckets
        factory.durationHistogramBuckets["whago_webhook_delivery_duration_seconds"] = Self.durationBuckets
        self.factory = factory
    }

    /// One request done: its route (the template, never the concrete path), method and status.
    func request(route: String, method: String, status: Int, duration: Duration) {
        let key = RequestKey(route: route, method: method, status: status)
        let timer = timers.withLock { timers in
            if let timer = timers[key] { return timer }
            let dimensions = [("route", route), ("method", method), ("status", String(status))]
            let timer = Metrics.Timer(label: "whago_http_request_duration_seconds", dimensions: dimensions, factory: factory)
            timers[key] = timer
            return timer
        }
        timer.record(duration: duration)
    }

    private struct RequestKey: Hashable {
        var route: String
        var method: String
        var status: Int
    }

    /// One tenant webhook delivery attempt: `delivered`, `failed` (to be retried) or `dead_lettered`.
    public func delivery(_ outcome: String, duration: Duration) {
        Counter(label: "whago_webhook_deliveries_total", dimensions: [("outcome", outcome)], factory: factory).increment()
        Metrics.Timer(label: "whago_webhook_delivery_duration_seconds", dimensions: [], factory: factory).record(duration: duration)
    }

    /// A worker webhook received: `accepted`, `unauthorized`, `rejected` (bad body) or `overloaded`.
    func workerWebhook(_ outcome: String) {
        Counter(label: "whago_worker_webhooks_total", dimensions: [("outcome", outcome)], factory: factory).increment()
    }

    /// The gauges read from the store, then the whole registry as text.
    func render(store: any Store, counters: OrchestratorCounters, healthyWithin: TimeInterval) async -> [UInt8] {
        let interval = gaugeInterval
        let due = gaugesReadAt.withLock { readAt in
            let now = ContinuousClock.now
            guard readAt.map({ now - $0 >= interval }) ?? true else { return false }
            readAt = now
            return true
        }
        if due { await readGauges(store: store, healthyWithin: healthyWithin) }
        // The orchestrator's counts only grow: exported as counters, advanced by what is new.
        let fresh = OrchestratorCounters.Name.allCases.map { ($0, counters[$0]) }
        let deltas = exported.withLock { exported in
            fresh.map { name, value in
                defer { exported[name] = value }
                return (name, value - exported[name, default: 0])
            }
        }
        for (name, delta) in deltas where delta > 0 {
            Counter(label: "whago_orchestrator_\(name.rawValue)_total", dimensions: [], factory: factory).increment(by: delta)
        }
        return registry.emitToBuffer()
    }

    /// The gauges that cost a store read.
    private func readGauges(store: any Store, healthyWithin: TimeInterval) async {
        if let chips = try? await store.allChips() {
            var byStatus = Dictionary(uniqueKeysWithValues: ChipStatus.allCases.map { ($0, 0) })
            for chip in chips { byStatus[chip.status, default: 0] += 1 }
            for (status, count) in byStatus {
                Gauge(label: "whago_chips", dimensions: [("status", status.rawValue)], factory: factory).record(count)
            }
        }
        if let workers = try? await store.workers() {
            let now = Date()
            var byHealth = ["healthy": 0, "unhealthy": 0, "unknown": 0]
            for worker in workers { byHealth[WorkerService.health(of: worker, now: now, healthyWithin: healthyWithin).rawValue, default: 0] += 1 }
            for (health, count) in byHealth {
                Gauge(label: "whago_workers", dimensions: [("health", health)], factory: factory).record(count)
            }
        }
        if let depth = try? await store.outboxDepth() {
            Gauge(label: "whago_outbox_depth", dimensions: [], factory: factory).record(depth)
        }
    }
}
