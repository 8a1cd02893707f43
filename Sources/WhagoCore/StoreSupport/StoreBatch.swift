public import Foundation

/// Operations a store applies all or nothing, in order, after checking their preconditions:
/// one SQL transaction in PostgreSQL, one write-ahead-log record in the file store.
///
/// Writes of existing records compare versions: an update carries the record as it was read
/// (with its ``Chip/version``), the store refuses it with `conflict` when the stored version
/// differs, and stores it with the version bumped. Counts are checked inside the batch too, so
/// two batches racing for the last slot cannot both win: a chip created with a `chipLimit` fails with
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
    /// `chipLimit`: the most chips the tenant may have (`quota_exceeded` past it); `capacity`: the
    /// most chips the chip's worker may host, when the chip is placed on one.
    case createChip(Chip, chipLimit: Int? = nil, capacity: Int? = nil)
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
    /// Inserts the worker on the lowest free port of `ports` on its host (the stored worker carries
    /// that port and version 1): the port pool. `capacity_exhausted` when every port is leased.
    case leasePort(Worker, ports: PortRange)
    /// One proxy lease per chip, one chip per sticky port (`conflict` otherwise).
    case insertProxyLease(ProxyLease)
    /// The chip's proxy lease on a free sticky port, unless it already holds one (then nothing
    /// changes). `capacity_exhausted` when every port is leased, `not_found` without the chip.
    case leaseStickyPort(StickyPortLease)
    /// Idempotent.
    case releaseProxyLease(ChipID)
    /// Appends events to the log, in order, each with the next store-wide sequence, pending
    /// delivery. An event id already in the log is a `conflict`.
    case enqueue([OutboxEntry])
    /// Marks a pending entry delivered at `at`; it stays in the log. Idempotent.
    case acknowledge(EventID, at: Date)
    /// Records a failed attempt and when to try again; the claim is released.
    case reschedule(EventID, nextAttemptAt: Date, error: String)
    /// Records the last failed attempt and moves the pending entry, which will not be retried, to
    /// the dead letters (which unblocks its chip's later events).
    case deadLetter(EventID, error: String)
    /// A dead-lettered entry back to pending, due at `at`, its attempts reset; when `tenant` is
    /// given, only that tenant's (`not_found` for another's, as for none).
    case retryDeadLetter(EventID, at: Date, tenant: TenantID? = nil)
    /// Removes delivered and dead-lettered entries older than `before` from the log, and settled
    /// messages created before it (retention).
    case pruneEvents(before: Date)
    /// Records an outgoing message before it is sent; a second message of the chip with the same
    /// idempotency key is a `conflict` (read the first with `Store.message(of:idempotencyKey:)`).
    case recordMessage(OutgoingMessage)
    /// Compares ``OutgoingMessage/version``.
    case updateMessage(OutgoingMessage)
}

/// A chip's lease of a provider's sticky port (DataImpulse's ports, a static list's positions):
/// the store picks the first port of `ports` from `startingAt` (wrapping around; from the lowest
/// when nil) that no lease of `provider` holds, and makes the lease's endpoint from `endpoint`.
public struct StickyPortLease: Sendable, Hashable, Codable {
    /// How the leased port gives the lease's endpoint.
    public enum Endpoint: Sendable, Hashable, Codable {
        /// This endpoint with the sticky port as its port (DataImpulse: each port is an exit IP).
        case atPort(ProxyEndpoint)
        /// The endpoint at the port's position in `ports` (the first port → the first endpoint).
        case listed([ProxyEndpoint])
    }

    public var chip: ChipID
    public var provider: String
    public var ports: PortRange
    public var startingAt: Int?
    /// Kept without passwords (the operation is written to the file store's log), as a lease is.
    public var endpoint: Endpoint
    public var leasedAt: Date

    public init(chip: ChipID, provider: String, ports: PortRange, startingAt: Int? = nil, endpoint: Endpoint, leasedAt: Date = Date()) {
        self.chip = chip
        self.provider = provider
        self.ports = ports
        self.startingAt = startingAt
        func withoutPassword(_ endpoint: ProxyEndpoint) -> ProxyEndpoint {
            var endpoint = endpoint
            endpoint.password = nil
            return endpoint
        }
        self.endpoint = switch endpoint {
        case .atPort(let template): .atPort(withoutPassword(template))
        case .listed(let endpoints): .listed(endpoints.map(withoutPassword))
        }
        self.leasedAt = leasedAt
    }

    /// The lease on `port`.
    public func lease(on port: Int) -> ProxyLease {
        var endpoint: ProxyEndpoint?
        switch self.endpoint {
        case .atPort(let template):
            endpoint = template
            endpoint?.port = port
        case .listed(let endpoints):
            let position = port - ports.lowerBound
            endpoint = endpoints.indices.contains(position) ? endpoints[position] : nil
        }
        return ProxyLease(chip: chip, provider: provider, endpoint: endpoint, stickyPort: port, leasedAt: leasedAt)
    }
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
