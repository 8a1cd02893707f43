public import Foundation

/// A store that keeps a ``StoreState`` and changes it only through ``StoreMutation``s: it implements
/// two primitives and gets every ``Store`` operation from this extension, with the same rules.
///
/// `commit` must run `build` and apply its mutation as one step with no other change in between
/// (an actor method does), and return only once the change is durable.
public protocol StateBackedStore: Store {
    /// Builds a mutation from the current state (or nil for none), applies it, makes it durable.
    func commit(_ build: @Sendable (StoreState) throws(WhagoError) -> StoreMutation?) async throws
    /// Reads from the current state.
    func read<T: Sendable>(_ body: @Sendable (StoreState) -> T) async throws -> T
}

extension StateBackedStore {
    public func apply(_ batch: StoreBatch) async throws { try await commit { _ in .batch(batch) } }

    public func acquireLease(_ name: String, holder: String, ttl: Duration) async throws -> FencingToken? {
        let token = CommitResult<FencingToken>()
        try await commit { state in
            guard let lease = state.leaseAcquisition(name, holder: holder, ttl: ttl, now: Date()) else { return nil }
            token.value = lease.token
            return .setLease(lease)
        }
        return token.value
    }

    public func renewLease(_ name: String, holder: String, token: FencingToken, ttl: Duration) async throws -> Bool {
        let renewed = CommitResult<Bool>()
        try await commit { state in
            let now = Date()
            guard var lease = state.leases[name], lease.holder == holder, lease.token == token, lease.expiresAt > now else { return nil }
            lease.expiresAt = now.addingTimeInterval(ttl.seconds)
            renewed.value = true
            return .setLease(lease)
        }
        return renewed.value ?? false
    }

    public func releaseLease(_ name: String, holder: String) async throws {
        try await commit { state in state.leases[name]?.holder == holder ? .dropLease(name: name, holder: holder) : nil }
    }

    public func tenant(_ id: TenantID) async throws -> Tenant? { try await read { $0.tenants[id] } }
    public func tenants(after: TenantID?, limit: Int) async throws -> [Tenant] {
        try await read { state in
            Array(state.tenants.values.filter { after == nil || $0.id > after! }.sorted { $0.id < $1.id }.prefix(limit))
        }
    }
    public func apiKey(prefix: String) async throws -> APIKeyRecord? { try await read { $0.apiKeys[prefix] } }
    public func apiKeys(of tenant: TenantID) async throws -> [APIKeyRecord] {
        try await read { $0.apiKeys.values.filter { $0.tenant == tenant }.sorted { $0.prefix < $1.prefix } }
    }

    public func chip(_ id: ChipID) async throws -> Chip? { try await read { $0.chips[id] } }
    public func chips(of tenant: TenantID, after: ChipID?, limit: Int) async throws -> [Chip] {
        try await read { state in
            Array(state.chips.values.filter { $0.tenant == tenant && (after == nil || $0.id > after!) }.sorted { $0.id < $1.id }.prefix(limit))
        }
    }
    public func chips(on worker: WorkerID) async throws -> [Chip] {
        try await read { $0.chips.values.filter { $0.worker == worker }.sorted { $0.id < $1.id } }
    }
    public func allChips() async throws -> [Chip] { try await read { $0.chips.values.sorted { $0.id < $1.id } } }

    public func worker(_ id: WorkerID) async throws -> Worker? { try await read { $0.workers[id] } }
    public func workers(of tenant: TenantID?) async throws -> [Worker] {
        try await read { $0.workers.values.filter { tenant == nil || $0.tenant == tenant }.sorted { $0.id < $1.id } }
    }
    public func portLeases() async throws -> [PortLease] { try await read { $0.portLeases } }
    public func proxyLeases(for chips: [ChipID]?) async throws -> [ProxyLease] {
        try await read { state in
            guard let chips else { return state.proxyLeases.values.sorted { $0.chip < $1.chip } }
            return Set(chips).compactMap { state.proxyLeases[$0] }.sorted { $0.chip < $1.chip }
        }
    }

    public func events(of tenant: TenantID, after sequence: Int64, limit: Int) async throws -> [OutboxEntry] {
        try await read { $0.events(of: tenant, after: sequence, limit: limit) }
    }
    public func latestEventSequence() async throws -> Int64 { try await read { Int64($0.nextSequence) - 1 } }
    public func outboxDepth() async throws -> Int { try await read { $0.outbox.count } }
    public func dueEntries(now: Date, limit: Int) async throws -> [OutboxEntry] { try await read { $0.dueEntries(now: now, limit: limit) } }
    public func claimDue(limit: Int, owner: String, for duration: Duration, now: Date, excluding tenants: Set<TenantID>) async throws -> [OutboxEntry] {
        let claimed = CommitResult<[OutboxEntry]>()
        let until = now.addingTimeInterval(duration.seconds)
        try await commit { state in
            let due = state.dueEntries(now: now, limit: limit, excluding: tenants)
            claimed.value = due.map { entry in
                var entry = entry
                entry.claimedBy = owner
                entry.claimedUntil = until
                return entry
            }
            return due.isEmpty ? nil : .claim(due.map(\.id), owner: owner, until: until)
        }
        return claimed.value ?? []
    }
    public func deadLetters(of tenant: TenantID?, limit: Int) async throws -> [OutboxEntry] {
        try await read { $0.deadLetters(of: tenant, limit: limit) }
    }

    public func message(_ key: MessageKey) async throws -> OutgoingMessage? {
        try await read { state in
            switch key {
            case .id(let id): state.messages[id]
            case .idempotencyKey(let chip, let key): state.message(of: chip, idempotencyKey: key)
            case .providerMessageID(let chip, let provided): state.message(of: chip, providerMessageID: provided)
            }
        }
    }
    public func messageCount(of chip: ChipID, since date: Date) async throws -> Int {
        try await read { $0.messages.values.reduce(0) { $0 + ($1.chip == chip && $1.createdAt >= date ? 1 : 0) } }
    }
}

/// Carries a value out of a `commit` closure, which runs exactly once before `commit` returns.
/// `@unchecked`: written inside `commit`, read after it returned, never concurrently.
private final class CommitResult<T>: @unchecked Sendable {
    var value: T?
}
