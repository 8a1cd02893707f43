import Foundation

/// Operations a store applies all or nothing, in order, after checking their preconditions:
/// one SQL transaction in PostgreSQL, one write-ahead-log record in the file store.
///
/// Writes of existing records compare versions: an update carries the record as it was read
/// (with its ``Chip/version``), the store refuses it with `conflict` when the stored version
/// differs, and stores it with the version bumped. Counts are checked inside the batch too, so
/// two batches racing for the last slot cannot both win: a chip created with a `quota` fails with
/// `quota_exceeded` when its tenant already has that many chips, and a chip placed on a worker
/// with a `capacity` fails with `capacity_exhausted` when the worker already hosts that many.
/// A batch with a ``fence`` is applied only while that fencing token is the current one of its
/// lease: a leader that was deposed (its lease taken over) gets `conflict` for its late writes.
public struct StoreBatch: Sendable, Hashable, Codable {
    public var operations: [StoreOperation]
    public var fence: Fence?

    public init(_ operations: [StoreOperation], fence: Fence? = nil) {
        self.operations = operations
        self.fence = fence
    }
}

/// One operation of a ``StoreBatch``.
public enum StoreOperation: Sendable, Hashable, Codable {
    case createTenant(Tenant)
    /// Compares ``Tenant/version``.
    case updateTenant(Tenant)
    /// A tenant without chips or workers, and its API keys.
    case deleteTenant(TenantID)
    case addAPIKey(APIKeyRecord)
    case revokeAPIKey(prefix: String, at: Date)
    /// `quota`: the most chips the tenant may have (`quota_exceeded` past it); `capacity`: the most
    /// chips the chip's worker may host, when the chip is placed on one.
    case createChip(Chip, quota: Int? = nil, capacity: Int? = nil)
    /// Compares ``Chip/version``; `capacity` is checked when the chip moves onto a worker.
    case updateChip(Chip, capacity: Int? = nil)
    /// Deletes the chip (comparing `version` when given) and releases its proxy lease.
    case deleteChip(ChipID, version: Int? = nil)
    /// Compares ``Worker/version``; a worker's tenant, host and port never change.
    case updateWorker(Worker)
    /// Moves the worker (compared at `version`) and its port lease to `host`: its port when that
    /// is free there, else the lowest free port of `ports` (`capacity_exhausted` when none is);
    /// records `address` (``Worker/address``). Its old port is released.
    case moveWorker(WorkerID, version: Int, host: String, address: String?, ports: PortRange)
    /// Deletes the worker, releases its port and unplaces its chips. Idempotent.
    case removeWorker(WorkerID)
    case insertProxyLease(ProxyLease)
    /// Idempotent.
    case releaseProxyLease(ChipID)
    /// Appends events to the outbox, in order.
    case enqueue([OutboxEntry])
    /// Records an outgoing message before it is sent; a second message of the chip with the same
    /// idempotency key is a `conflict` (read the first with `Store.message(of:idempotencyKey:)`).
    case recordMessage(OutgoingMessage)
    /// Compares ``OutgoingMessage/version``.
    case updateMessage(OutgoingMessage)
}

/// The name and token of a fencing lease that a batch requires to still be current.
public struct Fence: Sendable, Hashable, Codable {
    public var lease: String
    public var token: FencingToken

    public init(lease: String, token: FencingToken) {
        self.lease = lease
        self.token = token
    }
}

/// A number that grows every time a lease changes holder: the newer holder always has the
/// larger one, so a store can refuse what an older holder still sends.
public struct FencingToken: Sendable, Hashable, Codable, Comparable, CustomStringConvertible {
    public var value: Int64

    public init(_ value: Int64) { self.value = value }

    public static func < (lhs: FencingToken, rhs: FencingToken) -> Bool { lhs.value < rhs.value }
    public var description: String { "\(value)" }
}

/// A named lease (leadership among replicas): who holds it, with which token, until when.
public struct StoreLease: Sendable, Hashable, Codable {
    public var name: String
    public var holder: String
    public var token: FencingToken
    public var expiresAt: Date

    public init(name: String, holder: String, token: FencingToken, expiresAt: Date) {
        self.name = name
        self.holder = holder
        self.token = token
        self.expiresAt = expiresAt
    }
}
