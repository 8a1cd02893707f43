import CurlHTTP
import Foundation
import Logging
import Orchestrator
import ServiceLifecycle
import WhagoCore

/// Delivers the event log to tenants' webhook URLs, on the leader only (the orchestrator's
/// leadership seam), from the store's durable outbox.
///
/// Each turn claims the due entries (the earliest pending one of each chip, so a chip's events
/// go out in order) and POSTs them in parallel, signed (``TenantWebhookSignature``). An entry is
/// acknowledged only after a 2xx: a crash before that delivers it again after the claim expires
/// (at least once; receivers dedupe by `X-Whago-Event-Id`). A failure is retried with exponential
/// backoff and jitter up to `webhooks.maxAttempts`, then dead-lettered, which lets the chip's
/// later events go. A tenant without a webhook URL has its events settled at once (they stay in
/// the log for SSE and polling).
public final class TenantWebhookDelivery: Service, Sendable {
    let store: any Store
    let leadership: Leadership
    let settings: WebhooksConfig
    let client: HTTPClient
    let metrics: ServerMetrics
    let logger: Logger

    init(store: any Store, leadership: Leadership, settings: WebhooksConfig, metrics: ServerMetrics, logger: Logger) {
        self.store = store
        self.leadership = leadership
        self.settings = settings
        var configuration = HTTPClient.Configuration()
        configuration.timeout = settings.timeout.duration
        configuration.connectTimeout = min(settings.timeout.duration, .seconds(5))
        configuration.maxBodySize = 64 << 10
        self.client = HTTPClient(configuration: configuration)
        self.metrics = metrics
        var logger = logger
        logger[metadataKey: "component"] = "webhooks"
        self.logger = logger
    }

    public func run() async throws {
        await leadership.whileLeading(every: settings.pollInterval.duration) { _ in
            // Full batches are followed at once by the next; the loop waits only when caught up.
            while !Task.isCancelled, await self.deliverDue() == self.batchSize {}
        }
        client.shutdown()
    }

    var batchSize: Int { max(settings.concurrency * 4, 16) }

    /// One batch: claimed, delivered in parallel (at most `concurrency` at a time), settled.
    /// Returns how many entries it claimed.
    @discardableResult
    func deliverDue(now: Date = Date()) async -> Int {
        let claim = settings.timeout.duration * 2 + .seconds(5)
        let entries: [OutboxEntry]
        do {
            entries = try await store.claimDue(limit: batchSize, owner: leadership.holder, for: claim, now: now)
        } catch {
            logger.warning("cannot read the outbox: \(error)")
            return 0
        }
        guard !entries.isEmpty else { return 0 }
        var tenants: [TenantID: Tenant?] = [:]
        for id in Set(entries.map(\.tenant)) { tenants[id] = try? await store.tenant(id) }
        let known = tenants
        await withTaskGroup(of: Void.self) { group in
            var running = 0
            for entry in entries {
                if running >= settings.concurrency {
                    await group.next()
                    running -= 1
                }
                group.addTask { await self.deliver(entry, to: known[entry.tenant] ?? nil) }
                running += 1
            }
        }
        return entries.count
    }

    private func deliver(_ entry: OutboxEntry, to tenant: Tenant?) async {
        guard let tenant, let url = tenant.webhookURL, let secret = tenant.webhookSecret else {
            // Nowhere to send it: settled, still in the log for SSE and polling.
            try? await store.acknowledge(entry.id)
            return
        }
        let started = ContinuousClock.now
        let body: [UInt8]
        do {
            body = Array(try RFC3339Transcoder.jsonEncoder.encode(TenantWebhookBody(entry)))
        } catch {
            await settle(entry, failure: "the event cannot be encoded", final: true, started: started)
            return
        }
        var request = HTTPClientRequest(.post, url.absoluteString, body: body)
        request.addHeader("Content-Type", "application/json")
        request.addHeader("User-Agent", "whago/\(WhagoVersion.current)")
        request.addHeader(TenantWebhookSignature.eventIDHeader, entry.id.rawValue)
        request.addHeader(TenantWebhookSignature.header,
                          TenantWebhookSignature.sign(body, secrets: [secret] + (tenant.previousWebhookSecret.map { [$0] } ?? []), at: Date()))
        do {
            let response = try await client.execute(request)
            if (200..<300).contains(response.status) {
                do {
                    try await store.acknowledge(entry.id)
                    metrics.delivery("delivered", duration: ContinuousClock.now - started)
                } catch {
                    logger.warning("delivered event \(entry.id) but could not record it (it will be delivered again): \(error)")
                }
                return
            }
            await settle(entry, failure: "HTTP \(response.status)", final: false, started: started)
        } catch let error as HTTPClientError {
            // The kind only: curl's message names the URL, which may hold credentials.
            await settle(entry, failure: "\(error.kind)", final: false, started: started)
        } catch {
            await settle(entry, failure: "\(type(of: error))", final: false, started: started)
        }
    }

    /// A failed attempt: rescheduled with backoff, or dead-lettered after the last attempt.
    private func settle(_ entry: OutboxEntry, failure: String, final: Bool, started: ContinuousClock.Instant) async {
        let attempts = entry.attempts + 1
        do {
            if final || attempts >= settings.maxAttempts {
                try await store.deadLetter(entry.id, error: "\(failure) after \(attempts) attempts")
                metrics.delivery("dead_lettered", duration: ContinuousClock.now - started)
                logger.warning("gave up delivering event \(entry.id) to tenant \(entry.tenant): \(failure) after \(attempts) attempts",
                               metadata: ["tenant": "\(entry.tenant)", "chip": "\(entry.chip)"])
            } else {
                let wait = settings.backoff(afterAttempts: attempts)
                try await store.reschedule(entry.id, nextAttemptAt: Date().addingTimeInterval(wait.seconds), error: failure)
                metrics.delivery("failed", duration: ContinuousClock.now - started)
                logger.info("delivering event \(entry.id) failed (\(failure)); attempt \(attempts + 1) in \(Int(wait.seconds.rounded())) s",
                            metadata: ["tenant": "\(entry.tenant)", "chip": "\(entry.chip)"])
            }
        } catch {
            logger.warning("cannot record the failed delivery of \(entry.id) (the claim expires and it is retried): \(error)")
        }
    }
}
