public import Foundation

/// One change to whago's state, as a value: what a store applies atomically and what a log-based
/// store (the `file` driver) writes to its write-ahead log. Every mutation is deterministic — the
/// port a lease got is inside the worker it carries — so replaying a log rebuilds the same state.
public enum StoreMutation: Codable, Sendable, Hashable {
    case createTenant(Tenant)
    case updateTenant(Tenant)
    case deleteTenant(TenantID)
    case addAPIKey(APIKeyRecord)
    case revokeAPIKey(prefix: String, at: Date)
    case createChip(Chip)
    case updateChip(Chip)
    case deleteChip(ChipID, event: OutboxEntry?)
    /// A worker with the port it leased (in `worker.host`/`worker.port`).
    case insertWorker(Worker)
    case updateWorker(Worker)
    /// A worker moved with its port lease to the host and port it carries.
    case moveWorker(Worker)
    case removeWorker(WorkerID)
    case insertProxyLease(ProxyLease)
    case releaseProxyLease(ChipID)
    case enqueue([OutboxEntry])
    /// Delivered before the event log kept delivered entries (old logs); see ``deliver(_:at:)``.
    case acknowledge(EventID)
    /// Delivered at a time; the entry stays in the log.
    case deliver(EventID, at: Date)
    /// Handed to a claimer until a time (a later claim of a pending entry replaces it).
    case claim([EventID], owner: String, until: Date)
    /// A dead-lettered entry back to pending, due at a time, its attempts reset.
    case retryDeadLetter(EventID, at: Date)
    /// Delivered and dead-lettered entries older than a time leave the log.
    case pruneEvents(before: Date)
    case reschedule(EventID, nextAttemptAt: Date, error: String)
    case deadLetter(EventID, error: String)
    /// A webhook request id seen at a time: written by a whago that kept a dedupe window in the
    /// store; replayed as nothing.
    case markSeen(String, at: Date, window: Duration)
    /// Operations applied all or nothing, with version, count and fence preconditions. The cases
    /// above without preconditions are kept so that logs written before batches still replay.
    case batch(StoreBatch)
    /// A lease as acquired or renewed (its token and expiry resolved, so replay is deterministic).
    case setLease(StoreLease)
    /// The holder let the lease go: it expires now, its token stays.
    case dropLease(name: String, holder: String)
    /// A sealed known text: the store's secrets are sealed with the key that opens it.
    case setKeyCheck(String)
}

