import Foundation

/// whago's whole state: tenants, API keys, chips, workers, leases, the event outbox and the webhook
/// dedupe window.
///
/// # Implementation requirements
/// - **Durable**: a call that returned has been written to stable storage; it survives a crash of
///   whago, of the machine (file store: `fsync`) or a restart of the database.
/// - **Atomic**: every method is one change. The multi-record ones (``leasePort(in:host:for:)``,
///   ``deleteChip(_:event:)``, …) apply completely or not at all; no crash leaves half of one.
/// - **The store enforces uniqueness**, not its callers: one worker per (host, port), one chip per
///   proxy sticky port, chip names unique per tenant, API key prefixes unique. A violation is a
///   ``WhagoError`` with code `conflict`; an empty pool is `capacity_exhausted`.
/// - Reads of missing records return `nil`; updates and deletes of missing records throw `not_found`,
///   except the `release`/`delete` methods documented as idempotent.
/// - Errors are ``WhagoError``s: `unavailable` when the backing storage cannot be reached (callers
///   retry; the store recovers by itself), `locked` when another whago holds it, `corrupt` when
///   stored data is damaged (never overwritten).
///
/// - **Versions**: every write of a tenant, chip or worker bumps its `version`; updates carry the
///   version they read and are refused with `conflict` when it is stale (see ``StoreBatch``).
/// - **Leases** with fencing tokens elect one leader among replicas: ``acquireLease(_:holder:ttl:)``
///   gives a token that grows whenever the holder changes, and a batch fenced with an old token
///   is refused.
///
/// The shared suite `WhagoTesting.StoreConformance` checks these rules for every store.
public protocol Store: WhagoDriver {
    // MARK: Batches

    /// Applies the operations all or nothing, after checking their preconditions (versions,
    /// quota, capacity, fence): `conflict`, `quota_exceeded`, `capacity_exhausted`, `not_found`.
    func apply(_ batch: StoreBatch) async throws

    // MARK: Leases

    /// Takes the lease `name` for `holder` until `ttl` from now, when it is free, expired or
    /// already `holder`'s; returns its fencing token (a new, larger one when the holder changed),
    /// or nil when another holder has it.
    func acquireLease(_ name: String, holder: String, ttl: Duration) async throws -> FencingToken?
    /// Extends the lease while `holder` still holds it with `token` and it has not expired.
    func renewLease(_ name: String, holder: String, token: FencingToken, ttl: Duration) async throws -> Bool
    /// Lets the lease go now when `holder` holds it; its token is kept, so the next holder's is larger.
    func releaseLease(_ name: String, holder: String) async throws

    // MARK: Tenants and API keys

    func createTenant(_ tenant: Tenant) async throws
    func tenant(_ id: TenantID) async throws -> Tenant?
    func tenants() async throws -> [Tenant]
    /// Compares ``Tenant/version``: `conflict` when the tenant changed since it was read.
    func updateTenant(_ tenant: Tenant) async throws
    /// Deletes a tenant that has no chip left (`conflict` otherwise) and its API keys.
    func deleteTenant(_ id: TenantID) async throws
    /// Stores a hashed API key; the prefix must be unique.
    func addAPIKey(_ key: APIKeyRecord) async throws
    /// The key with that public prefix, revoked or not.
    func apiKey(prefix: String) async throws -> APIKeyRecord?
    func revokeAPIKey(prefix: String, at: Date) async throws

    // MARK: Chips

    /// Inserts a chip; its name must be unique within its tenant.
    func createChip(_ chip: Chip) async throws
    func chip(_ id: ChipID) async throws -> Chip?
    func chips(of tenant: TenantID) async throws -> [Chip]
    func allChips() async throws -> [Chip]
    /// Compares ``Chip/version``: `conflict` when the chip changed since it was read.
    func updateChip(_ chip: Chip) async throws
    /// In one change: deletes the chip, releases its proxy lease and enqueues `event`.
    func deleteChip(_ id: ChipID, event: OutboxEntry?) async throws

    // MARK: Workers and port leases

    /// In one change: leases the lowest free port of `range` on `host` and inserts the worker that
    /// `makeWorker` builds for it. `capacity_exhausted` when the range is full.
    func leasePort(in range: PortRange, host: String, for makeWorker: @escaping @Sendable (Int) -> Worker) async throws -> Worker
    func worker(_ id: WorkerID) async throws -> Worker?
    func workers() async throws -> [Worker]
    /// Compares ``Worker/version``: `conflict` when the worker changed since it was read.
    func updateWorker(_ worker: Worker) async throws
    /// In one change: deletes the worker and releases its port. Idempotent.
    func removeWorker(_ id: WorkerID) async throws
    func portLeases() async throws -> [PortLease]
    /// How many ports are leased on each host (node) that holds any: where the next worker goes.
    func portLeaseCounts() async throws -> [String: Int]

    // MARK: Proxy leases

    /// Inserts a proxy lease; one per chip and one chip per sticky port (`conflict` otherwise).
    func insertProxyLease(_ lease: ProxyLease) async throws
    /// In one change: the chip's lease when it holds one; otherwise the first port of `range`
    /// (from `start`, wrapping around; from the lowest when nil) that no lease of `provider`
    /// holds, leased to the chip as `makeLease` builds it. `capacity_exhausted` when the range is
    /// full, `not_found` when the chip does not exist.
    func leaseStickyPort(for chip: ChipID, provider: String, in range: PortRange, startingAt start: Int?,
                         makeLease: @escaping @Sendable (Int) -> ProxyLease) async throws -> ProxyLease
    func proxyLease(of chip: ChipID) async throws -> ProxyLease?
    func proxyLeases() async throws -> [ProxyLease]
    /// The leases of these chips (those that hold one), by chip: one read for a page of chips.
    func proxyLeases(of chips: [ChipID]) async throws -> [ChipID: ProxyLease]
    /// Deletes the chip's lease. Idempotent.
    func releaseProxyLease(of chip: ChipID) async throws

    // MARK: Event log and delivery

    /// Appends events to the log, in order, each with the next store-wide sequence, pending
    /// delivery. An event id already in the log is a `conflict`.
    func enqueue(_ entries: [OutboxEntry]) async throws
    /// The tenant's events with a sequence above `after`, in log order, delivered or not: the
    /// cursor of `GET /events?after=` and of SSE's `Last-Event-ID`. A sequence, once read, never
    /// has an earlier event appear before it.
    func events(of tenant: TenantID, after sequence: Int64, limit: Int) async throws -> [OutboxEntry]
    /// The sequence of the newest event in the log (0 when it has none): a cursor after which
    /// only events appended later are read — "from now on", for a stream that wants no history.
    /// Like ``events(of:after:limit:)``, no event with a smaller sequence appears after it is read.
    func latestEventSequence() async throws -> Int64
    /// Up to `limit` pending entries due at `now`, unclaimed, each the earliest pending entry of
    /// its chip, oldest first. A read: it claims nothing.
    func dueEntries(now: Date, limit: Int) async throws -> [OutboxEntry]
    /// How many entries are pending delivery, due or not (the `whago_outbox_depth` gauge).
    func outboxDepth() async throws -> Int

    /// Claims what ``dueEntries(now:limit:)`` would return for `owner` until `now + duration`,
    /// leaving out the entries of `tenants` (those whose deliveries are at their cap): no other
    /// claimer gets those entries (nor, by the order rule, later ones of their chips) until they
    /// are settled or the claim expires (PostgreSQL: `FOR UPDATE SKIP LOCKED`).
    func claimDue(limit: Int, owner: String, for duration: Duration, now: Date, excluding tenants: Set<TenantID>) async throws -> [OutboxEntry]
    /// Marks an entry delivered now; it stays in the log. Idempotent.
    func acknowledge(_ id: EventID) async throws
    /// Records a failed attempt and when to try again; the claim is released.
    func reschedule(_ id: EventID, nextAttemptAt: Date, error: String) async throws
    /// Records the last failed attempt and moves the entry, which will not be retried, to the
    /// dead letters (which unblocks its chip's later events).
    func deadLetter(_ id: EventID, error: String) async throws
    /// Dead-lettered entries, oldest first: a tenant's, or everyone's when `tenant` is nil.
    func deadLetters(of tenant: TenantID?, limit: Int) async throws -> [OutboxEntry]
    /// A dead-lettered entry back to pending, due at `date`, its attempts reset.
    func retryDeadLetter(_ id: EventID, at date: Date) async throws
    /// Removes delivered and dead-lettered entries older than `date` from the log, and settled
    /// messages created before it (retention).
    func pruneEvents(before date: Date) async throws

    // MARK: Queries

    /// Tenants in id order after `after` (keyset pagination), at most `limit`.
    func tenants(after: TenantID?, limit: Int) async throws -> [Tenant]
    /// A tenant's chips in id order (ids sort by creation time) after `after`, at most `limit`.
    func chips(of tenant: TenantID, after: ChipID?, limit: Int) async throws -> [Chip]
    /// The chips placed on a worker, in id order.
    func chips(on worker: WorkerID) async throws -> [Chip]
    /// A tenant's workers, in id order.
    func workers(of tenant: TenantID) async throws -> [Worker]
    /// A tenant's API keys, revoked ones included, in prefix order.
    func apiKeys(of tenant: TenantID) async throws -> [APIKeyRecord]

    // MARK: Outgoing messages

    func message(_ id: MessageID) async throws -> OutgoingMessage?
    /// The chip's message recorded with an idempotency key.
    func message(of chip: ChipID, idempotencyKey: String) async throws -> OutgoingMessage?
    /// The chip's message its worker knows by `providerMessageID` (the id the send was answered
    /// with): how a worker's ack of a message is matched to whago's record of it.
    func message(of chip: ChipID, providerMessageID: String) async throws -> OutgoingMessage?
    /// How many messages the chip recorded since `date` (for pacing).
    func messageCount(of chip: ChipID, since date: Date) async throws -> Int

    // MARK: Webhook dedupe

    /// Records a webhook request id and returns `true` when it was already seen within `window`.
    func seenBefore(requestID: String, at now: Date, window: Duration) async throws -> Bool
}

extension Store {
    /// Claims the due entries of every tenant (``claimDue(limit:owner:for:now:excluding:)``).
    public func claimDue(limit: Int, owner: String, for duration: Duration, now: Date) async throws -> [OutboxEntry] {
        try await claimDue(limit: limit, owner: owner, for: duration, now: now, excluding: [])
    }

    /// Everyone's dead-lettered entries, oldest first.
    public func deadLetters(limit: Int) async throws -> [OutboxEntry] {
        try await deadLetters(of: nil, limit: limit)
    }
}
