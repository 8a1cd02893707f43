import CurlHTTP
import Foundation
import Logging
import Orchestrator
import ServiceLifecycle
import WhagoCore

/// Delivers the event log to tenants' webhook URLs, on the leader only (the orchestrator's
/// leadership seam), from the store's durable outbox.
///
/// Due entries are claimed (the earliest pending one of each chip, so a chip's events go out in
/// order) and POSTed in parallel, signed (``TenantWebhookSignature``), as a rolling pipeline with a
/// cap per tenant (``deliverWhileDue()``), only to addresses ``WebhooksConfig/addressPolicy`` permits. An entry is
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
            await self.deliverWhileDue()
        }
        client.shutdown()
    }

    /// What ends a wait of the pipeline: a delivery of a tenant, or the poll interval.
    private enum Wake: Sendable {
        case delivered(TenantID)
        case tick
    }

    /// Delivers until nothing is due and nothing is in flight (or the leadership ends): at most
    /// `concurrency` deliveries at once, of which at most `perTenantConcurrency` of one tenant, and a
    /// freed slot is filled at once — no delivery waits for another's end, so a tenant whose
    /// endpoint hangs until the timeout holds its own slots only. The outbox is looked at again
    /// every `pollInterval` while deliveries are in flight.
    func deliverWhileDue() async {
        let cap = settings.perTenantConcurrency
        await withTaskGroup(of: Wake.self) { group in
            var inFlight: [TenantID: Int] = [:]
            var running = 0
            var ticking = false
            /// Claimed while their tenant was at its cap: started when it has a slot again (within
            /// one delivery's timeout, well inside the claim).
            var waiting: [OutboxEntry] = []
            var tenants: [TenantID: Tenant?] = [:]
            func start(_ entry: OutboxEntry) {
                inFlight[entry.tenant, default: 0] += 1
                running += 1
                let tenant = tenants[entry.tenant] ?? nil
                group.addTask {
                    await self.deliver(entry, to: tenant)
                    return .delivered(entry.tenant)
                }
            }
            while !Task.isCancelled {
                // Those that waited for their tenant, first.
                waiting.removeAll { entry in
                    guard inFlight[entry.tenant, default: 0] < cap, running < settings.concurrency else { return false }
                    start(entry)
                    return true
                }
                var claimed = 0
                // Waiting entries do not take slots: their tenants are left out of the claims
                // until they have run, so one tenant's backlog never keeps the others' entries out.
                let free = settings.concurrency - running
                if free > 0, await leadership.fence() != nil {
                    let saturated = Set(inFlight.filter { $0.value >= cap }.keys).union(waiting.map(\.tenant))
                    let entries = await claim(limit: free, excluding: saturated)
                    claimed = entries.count
                    for id in Set(entries.map(\.tenant)) where tenants[id] == nil { tenants[id] = try? await store.tenant(id) }
                    for entry in entries {
                        if inFlight[entry.tenant, default: 0] < cap { start(entry) } else { waiting.append(entry) }
                    }
                }
                if running == 0 && waiting.isEmpty && claimed == 0 { break }
                // A full claim is followed at once by the next; otherwise wait for a slot or the interval.
                if claimed > 0 && claimed == free && running < settings.concurrency { continue }
                if !ticking {
                    ticking = true
                    let interval = settings.pollInterval.duration
                    group.addTask {
                        try? await Task.sleep(for: interval)
                        return .tick
                    }
                }
                switch await group.next() {
                case .delivered(let tenant)?:
                    running -= 1
                    inFlight[tenant, default: 1] -= 1
                    if inFlight[tenant] == 0 { inFlight[tenant] = nil; tenants[tenant] = nil }
                case .tick?:
                    ticking = false
                case nil:
                    break
                }
            }
            // Caught up, or cancelled (shutdown, leadership lost): the tick is not waited for; a
            // delivery cancelled in flight is delivered again once its claim runs out.
            group.cancelAll()
        }
    }

    /// Claims up to `limit` due entries for this process, none of `tenants`.
    private func claim(limit: Int, excluding tenants: Set<TenantID>) async -> [OutboxEntry] {
        let claim = settings.timeout.duration * 2 + .seconds(5)
        do {
            return try await store.claimDue(limit: limit, owner: leadership.holder, for: claim, now: Date(), excluding: tenants)
        } catch {
            logger.warning("cannot read the outbox: \(error)")
            return []
        }
    }

    private func deliver(_ entry: OutboxEntry, to tenant: Tenant?) async {
        guard let tenant, let url = tenant.webhookURL, let secret = tenant.webhookSecret else {
            // Nowhere to send it: settled, still in the log for SSE and polling.
            try? await store.apply(.acknowledge(entry.id, at: Date()))
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
        // The address connected to must be one webhooks may reach (public, or allowed): checked by
        // libcurl's socket callback, so a name that resolves elsewhere later gains nothing.
        let policy = settings.addressPolicy
        if !policy.allowPrivateNetworks {
            request.allowsAddress = { bytes in NetworkAddress(bytes: bytes).map(policy.permits) ?? false }
        }
        request.addHeader("Content-Type", "application/json")
        request.addHeader("User-Agent", "whago/\(WhagoVersion.current)")
        request.addHeader(TenantWebhookSignature.eventIDHeader, entry.id.rawValue)
        request.addHeader(TenantWebhookSignature.header,
                          TenantWebhookSignature.sign(body, secrets: [secret] + (tenant.previousWebhookSecret.map { [$0] } ?? []), at: Date()))
        do {
            let response = try await client.execute(request)
            if (200..<300).contains(response.status) {
                do {
                    try await store.apply(.acknowledge(entry.id, at: Date()))
                    metrics.delivery("delivered", duration: ContinuousClock.now - started)
                } catch {
                    logger.warning("delivered event \(entry.id) but could not record it (it will be delivered again): \(error)")
                }
                return
            }
            await settle(entry, failure: "HTTP \(response.status)", final: false, started: started)
        } catch let error as HTTPClientError where error.kind == .addressNotAllowed {
            // Final: retrying cannot help, and the reason says nothing of the network behind the name.
            await settle(entry, failure: "the webhook URL's host is not a public address (webhooks.allowPrivateNetworks, webhooks.allowedNetworks)",
                         final: true, started: started)
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
                try await store.apply(.deadLetter(entry.id, error: "\(failure) after \(attempts) attempts"))
                metrics.delivery("dead_lettered", duration: ContinuousClock.now - started)
                logger.warning("gave up delivering event \(entry.id) to tenant \(entry.tenant): \(failure) after \(attempts) attempts",
                               metadata: ["tenant": "\(entry.tenant)", "chip": "\(entry.chip)"])
            } else {
                let wait = settings.backoff(afterAttempts: attempts)
                try await store.apply(.reschedule(entry.id, nextAttemptAt: Date().addingTimeInterval(wait.seconds), error: failure))
                metrics.delivery("failed", duration: ContinuousClock.now - started)
                logger.info("delivering event \(entry.id) failed (\(failure)); attempt \(attempts + 1) in \(Int(wait.seconds.rounded())) s",
                            metadata: ["tenant": "\(entry.tenant)", "chip": "\(entry.chip)"])
            }
        } catch {
            logger.warning("cannot record the failed delivery of \(entry.id) (the claim expires and it is retried): \(error)")
        }
    }
}
