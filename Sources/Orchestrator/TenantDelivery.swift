public import Foundation
import Logging
public import ServiceLifecycle
public import WhagoCore

/// How an event reaches a tenant's webhook: WhagoServer's signed HTTP POSTs (through libcurl, to
/// the addresses `webhooks.*` permits). The orchestrator decides what is sent when, and what an
/// outcome means; the transport only sends.
public protocol TenantWebhookTransport: Sendable {
    /// POSTs the event to the tenant's webhook, signed with `secrets` (current first).
    func post(_ entry: OutboxEntry, to url: URL, secrets: [Secret]) async -> TenantWebhookAttempt
    /// Lets the transport's connections go (once delivery has stopped).
    func shutdown()
}

/// What one POST of an event came to.
public enum TenantWebhookAttempt: Sendable, Hashable {
    /// A 2xx.
    case delivered
    /// Worth another try later (a status, a timeout, a refused connection), with the reason.
    case failed(String)
    /// Never worth another try (a URL whose address webhooks may not reach), with the reason.
    case refused(String)
}

/// Delivers the event log to tenants' webhook URLs, on the leader only (the leadership seam), from
/// the store's durable outbox.
///
/// Due entries are claimed (the earliest pending one of each chip, so a chip's events go out in
/// order) and POSTed in parallel through the ``TenantWebhookTransport``, as a rolling pipeline with
/// a cap per tenant (``deliverWhileDue()``). An entry is acknowledged only after a 2xx: a crash
/// before that delivers it again after the claim expires (at least once; receivers dedupe by the
/// event id). A failure is retried with exponential backoff and jitter up to
/// `webhooks.maxAttempts`, then dead-lettered, which lets the chip's later events go. A tenant
/// without a webhook URL has its events settled at once (they stay in the log for SSE and polling).
public final class TenantDelivery: Service, Sendable {
    let store: any Store
    let leadership: Leadership
    let settings: WebhooksConfig
    let transport: any TenantWebhookTransport
    /// Each settled attempt: `delivered`, `failed` or `dead_lettered`, and how long it took.
    let observe: @Sendable (_ outcome: String, _ duration: Duration) -> Void
    let logger: Logger

    init(store: any Store, leadership: Leadership, settings: WebhooksConfig, transport: any TenantWebhookTransport,
         observe: @escaping @Sendable (String, Duration) -> Void, logger: Logger) {
        self.store = store
        self.leadership = leadership
        self.settings = settings
        self.transport = transport
        self.observe = observe
        var logger = logger
        logger[metadataKey: "component"] = "webhooks"
        self.logger = logger
    }

    public func run() async throws {
        await leadership.whileLeading(every: settings.pollInterval.duration) { _ in
            await self.deliverWhileDue()
        }
        transport.shutdown()
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
                    var entries = await claim(limit: free, excluding: saturated)
                    claimed = entries.count
                    for id in Set(entries.map(\.tenant)) where tenants[id] == nil { tenants[id] = try? await store.tenant(id) }
                    // Events of tenants without a webhook are settled at once, in one batch.
                    let unsent = entries.filter { entry in !Self.hasWebhook(tenants[entry.tenant] ?? nil) }
                    if !unsent.isEmpty {
                        let now = Date()
                        try? await store.apply(StoreBatch(unsent.map { .acknowledge($0.id, at: now) }))
                        entries.removeAll { entry in !Self.hasWebhook(tenants[entry.tenant] ?? nil) }
                    }
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
                    // The tenant's record goes with its last delivery, unless entries of it still wait.
                    if inFlight[tenant] == 0 {
                        inFlight[tenant] = nil
                        if !waiting.contains(where: { $0.tenant == tenant }) { tenants[tenant] = nil }
                    }
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

    /// Whether the tenant's events go anywhere (a URL and a secret to sign with).
    static func hasWebhook(_ tenant: Tenant?) -> Bool {
        tenant?.webhookURL != nil && tenant?.webhookSecret != nil
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
        // During a secret rotation the previous secret signs too.
        switch await transport.post(entry, to: url, secrets: [secret] + (tenant.previousWebhookSecret.map { [$0] } ?? [])) {
        case .delivered:
            do {
                try await store.apply(.acknowledge(entry.id, at: Date()))
                observe("delivered", ContinuousClock.now - started)
            } catch {
                logger.warning("delivered event \(entry.id) but could not record it (it will be delivered again): \(error)")
            }
        case .failed(let reason):
            await settle(entry, failure: reason, final: false, started: started)
        case .refused(let reason):
            await settle(entry, failure: reason, final: true, started: started)
        }
    }

    /// A failed attempt: rescheduled with backoff, or dead-lettered after the last attempt.
    private func settle(_ entry: OutboxEntry, failure: String, final: Bool, started: ContinuousClock.Instant) async {
        let attempts = entry.attempts + 1
        do {
            if final || attempts >= settings.maxAttempts {
                try await store.apply(.deadLetter(entry.id, error: "\(failure) after \(attempts) attempts"))
                observe("dead_lettered", ContinuousClock.now - started)
                logger.warning("gave up delivering event \(entry.id) to tenant \(entry.tenant): \(failure) after \(attempts) attempts",
                               metadata: ["tenant": "\(entry.tenant)", "chip": "\(entry.chip)"])
            } else {
                let wait = settings.backoff(afterAttempts: attempts)
                try await store.apply(.reschedule(entry.id, nextAttemptAt: Date().addingTimeInterval(wait.seconds), error: failure))
                observe("failed", ContinuousClock.now - started)
                logger.info("delivering event \(entry.id) failed (\(failure)); attempt \(attempts + 1) in \(Int(wait.seconds.rounded())) s",
                            metadata: ["tenant": "\(entry.tenant)", "chip": "\(entry.chip)"])
            }
        } catch {
            logger.warning("cannot record the failed delivery of \(entry.id) (the claim expires and it is retried): \(error)")
        }
    }
}
