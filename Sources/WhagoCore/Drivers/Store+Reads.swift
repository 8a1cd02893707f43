public import Foundation

// Reads built on the ``Store`` requirements, in the words the daemon uses.
extension Store {
    /// Every tenant, in id order.
    public func tenants() async throws -> [Tenant] { try await tenants(after: nil, limit: .max) }

    /// A tenant's chips, oldest first.
    public func chips(of tenant: TenantID) async throws -> [Chip] {
        try await chips(of: tenant, after: nil, limit: .max).sorted { ($0.createdAt, $0.id) < ($1.createdAt, $1.id) }
    }

    /// Every worker, in id order.
    public func workers() async throws -> [Worker] { try await workers(of: nil) }

    /// A tenant's workers, in id order.
    public func workers(of tenant: TenantID) async throws -> [Worker] { try await workers(of: Optional(tenant)) }

    /// How many ports are leased on each host (node) that holds any: where the next worker goes.
    public func portLeaseCounts() async throws -> [String: Int] {
        try await portLeases().reduce(into: [:]) { counts, lease in counts[lease.host, default: 0] += 1 }
    }

    /// The chip's proxy lease, if it holds one.
    public func proxyLease(of chip: ChipID) async throws -> ProxyLease? { try await proxyLeases(for: [chip]).first }

    /// Every proxy lease, in chip order.
    public func proxyLeases() async throws -> [ProxyLease] { try await proxyLeases(for: nil) }

    /// The leases of these chips (those that hold one), by chip: one read for a page of chips.
    public func proxyLeases(of chips: [ChipID]) async throws -> [ChipID: ProxyLease] {
        guard !chips.isEmpty else { return [:] }
        return Dictionary(try await proxyLeases(for: chips).map { ($0.chip, $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// The message with this id.
    public func message(_ id: MessageID) async throws -> OutgoingMessage? { try await message(.id(id)) }

    /// The chip's message recorded with an idempotency key.
    public func message(of chip: ChipID, idempotencyKey: String) async throws -> OutgoingMessage? {
        try await message(.idempotencyKey(chip, idempotencyKey))
    }

    /// The chip's message its worker knows by `providerMessageID`.
    public func message(of chip: ChipID, providerMessageID: String) async throws -> OutgoingMessage? {
        try await message(.providerMessageID(chip, providerMessageID))
    }

    /// Claims the due entries of every tenant (``claimDue(limit:owner:for:now:excluding:)``).
    public func claimDue(limit: Int, owner: String, for duration: Duration, now: Date) async throws -> [OutboxEntry] {
        try await claimDue(limit: limit, owner: owner, for: duration, now: now, excluding: [])
    }

    /// Everyone's dead-lettered entries, oldest first.
    public func deadLetters(limit: Int) async throws -> [OutboxEntry] {
        try await deadLetters(of: nil, limit: limit)
    }

    /// Applies one operation (a batch of one, unfenced).
    public func apply(_ operation: StoreOperation) async throws { try await apply(StoreBatch([operation])) }
}
