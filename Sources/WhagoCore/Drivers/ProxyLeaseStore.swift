import Foundation

/// The part of the store a proxy driver may use: the chips' proxy leases, nothing else.
public protocol ProxyLeaseStore: Sendable {
    /// The chip's lease, if it holds one.
    func lease(of chip: ChipID) async throws -> ProxyLease?
    /// Every lease `provider` issued, in chip order.
    func leases(of provider: String) async throws -> [ProxyLease]
    /// Records a lease: `conflict` when the chip already holds one or its sticky port is taken,
    /// `not_found` without the chip.
    func insert(_ lease: ProxyLease) async throws
    /// Leases a free sticky port to the chip, choice and record in one change, or returns the
    /// lease the chip already holds; `capacity_exhausted` when every port is leased.
    func leaseStickyPort(_ request: StickyPortLease) async throws -> ProxyLease
    /// Deletes the chip's lease. Idempotent.
    func release(chip: ChipID) async throws
}

/// A ``ProxyLeaseStore`` over whago's ``Store``: every write a batch.
public struct StoreProxyLeases: ProxyLeaseStore {
    let store: any Store

    public init(_ store: any Store) { self.store = store }

    public func lease(of chip: ChipID) async throws -> ProxyLease? { try await store.proxyLease(of: chip) }

    public func leases(of provider: String) async throws -> [ProxyLease] {
        try await store.proxyLeases().filter { $0.provider == provider }
    }

    public func insert(_ lease: ProxyLease) async throws { try await store.apply(.insertProxyLease(lease)) }

    public func leaseStickyPort(_ request: StickyPortLease) async throws -> ProxyLease {
        try await store.apply(.leaseStickyPort(request))
        guard let lease = try await store.proxyLease(of: request.chip) else {
            // Released between the two calls by another caller: as gone as a chip that was deleted.
            throw WhagoError(.notFound, "chip \(request.chip) lost its proxy lease while it was leased")
        }
        return lease
    }

    public func release(chip: ChipID) async throws { try await store.apply(.releaseProxyLease(chip)) }
}
