public import Foundation

/// whago's whole state: tenants, API keys, chips, workers, port and proxy leases, outgoing
/// messages, the event log and the leadership leases.
///
/// One way to write: every change is a ``StoreBatch`` given to ``apply(_:)``; the other
/// requirements read, except the leadership leases and ``claimDue(limit:owner:for:now:excluding:)``
/// (a claim of the event log's due entries).
///
/// # Implementation requirements
/// - **Durable**: a call that returned has been written to stable storage; it survives a crash of
///   whago, of the machine (file store: `fsync`) or a restart of the database.
/// - **Atomic**: a batch applies completely or not at all; no crash leaves half of one.
/// - **The store enforces uniqueness**, not its callers: one worker per (host, port), one chip per
///   proxy sticky port, chip names unique per tenant, API key prefixes unique. A violation is a
///   ``WhagoError`` with code `conflict`; an empty pool is `capacity_exhausted`.
/// - Reads of missing records return `nil`; updates and deletes of missing records throw
///   `not_found`, except the operations documented as idempotent.
/// - Errors are ``WhagoError``s: `unavailable` when the backing storage cannot be reached (callers
///   retry; the store recovers by itself), `locked` when another whago holds it, `corrupt` when
///   stored data is damaged (never overwritten).
/// - **Versions**: every write of a tenant, chip, worker or message bumps its `version`; updates
///   carry the version they read and are refused with `conflict` when it is stale.
/// - **Leases** with fencing tokens elect one leader among replicas: ``acquireLease(_:holder:ttl:)``
///   gives a token that grows whenever the holder changes, and a batch fenced with an old token
///   is refused.
///
/// Conveniences built on these requirements (``tenants()``, ``proxyLease(of:)``, …) are in
/// `Store+Reads.swift`. The shared suite `WhagoTesting.StoreConformance` checks these rules for
/// every store.
public protocol Store: WhagoDriver {
    // MARK: Writes

    /// Applies the operations all or nothing, after checking their preconditions (versions,
    /// quota, capacity, fence): `conflict`, `quota_exceeded`, `capacity_exhausted`, `not_found`.
    func apply(_ batch: StoreBatch) async throws

    // MARK: Leadership leases

    /// Takes the lease `name` for `holder` until `ttl` from now, when it is free, expired or
    /// already `holder`'s; returns its fencing token (a new, larger one when the holder changed),
    /// or nil when another holder has it.
    func acquireLease(_ name: String, holder: String, ttl: Duration) async throws -> FencingToken?
    /// Extends the lease while `holder` still holds it with `token` and it has not expired.
    func renewLease(_ name: String, holder: String, token: FencingToken, ttl: Duration) async throws -> Bool
    /// Lets the lease go now when `holder` holds it; its token is kept, so the next holder's is larger.
    func releaseLease(_ name: String, holder: String) async throws

    // MARK: Tenants and API keys

    /// The tenant with that id, or nil.
    func tenant(_ id: TenantID) async throws -> Tenant?
    /// Tenants in id order after `after` (keyset pagination), at most `limit`.
    func tenants(after: TenantID?, limit: Int) async throws -> [Tenant]
    /// The key with that public prefix, revoked or not.
    func apiKey(prefix: String) async throws -> APIKeyRecord?
    /// A tenant's API keys, revoked ones included, in prefix order.
    func apiKeys(of tenant: TenantID) async throws -> [APIKeyRecord]

    // MARK: Chips

    /// The chip with that id, or nil.
    func chip(_ id: ChipID) async throws -> Chip?
    /// A tenant's chips in id order (ids sort by creation time) after `after`, at most `limit`.
    func chips(of tenant: TenantID, after: ChipID?, limit: Int) async throws -> [Chip]
    /// The chips placed on a worker, in id order.
    func chips(on worker: WorkerID) async throws -> [Chip]
    /// Every chip, in id order.
    func allChips() async throws -> [Chip]

    // MARK: Workers, port and proxy leases

    /// The worker with that id, or nil.
    func worker(_ id: WorkerID) async throws -> Worker?
    /// A tenant's workers, or every worker when `tenant` is nil, in id order.
    func workers(of tenant: TenantID?) async throws -> [Worker]
    /// Every worker's port lease, by host and port.
    func portLeases() async throws -> [PortLease]
    /// The proxy leases of these chips (those that hold one), or every lease when `chips` is nil,
    /// in chip order.
    func proxyLeases(for chips: [ChipID]?) async throws -> [ProxyLease]

    // MARK: Event log

    /// The tenant's events with a sequence above `after`, in log order, delivered or not: the
    /// cursor of `GET /events?after=` and of SSE's `Last-Event-ID`. A sequence, once read, never
    /// has an earlier event appear before it.
    func events(of tenant: TenantID, after sequence: Int64, limit: Int) async throws -> [OutboxEntry]
    /// The sequence of the newest event in the log (0 when it has none): a cursor after which
    /// only events appended later are read — "from now on", for a stream that wants no history.
    /// Like ``events(of:after:limit:)``, no event with a smaller sequence appears after it is read.
    func latestEventSequence() async throws -> Int64
    /// How many entries are pending delivery, due or not (the `whago_outbox_depth` gauge).
    func outboxDepth() async throws -> Int
    /// Up to `limit` pending entries due at `now`, unclaimed, each the earliest pending entry of
    /// its chip, oldest first. A read: it claims nothing.
    func dueEntries(now: Date, limit: Int) async throws -> [OutboxEntry]
    /// Claims what ``dueEntries(now:limit:)`` would return for `owner` until `now + duration`,
    /// leaving out the entries of `tenants` (those whose deliveries are at their cap): no other
    /// claimer gets those entries (nor, by the order rule, later ones of their chips) until they
    /// are settled or the claim expires (PostgreSQL: `FOR UPDATE SKIP LOCKED`).
    func claimDue(limit: Int, owner: String, for duration: Duration, now: Date, excluding tenants: Set<TenantID>) async throws -> [OutboxEntry]
    /// Dead-lettered entries, oldest first: a tenant's, or everyone's when `tenant` is nil.
    func deadLetters(of tenant: TenantID?, limit: Int) async throws -> [OutboxEntry]

    // MARK: Outgoing messages

    /// The message `key` names (see ``MessageKey``).
    func message(_ key: MessageKey) async throws -> OutgoingMessage?
    /// How many messages the chip recorded since `date` (for pacing).
    func messageCount(of chip: ChipID, since date: Date) async throws -> Int
}

/// How a message is looked up.
public enum MessageKey: Sendable, Hashable {
    /// whago's id of it.
    case id(MessageID)
    /// The chip's message recorded with an idempotency key.
    case idempotencyKey(ChipID, String)
    /// The chip's message its worker knows by this id (the id the send was answered with): how a
    /// worker's ack of a message is matched to whago's record of it.
    case providerMessageID(ChipID, String)
}
