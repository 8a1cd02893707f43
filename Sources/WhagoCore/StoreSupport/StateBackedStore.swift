import Foundation

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
    func commit(_ mutation: StoreMutation) async throws {
        try await commit { _ in mutation }
    }

    public func apply(_ batch: StoreBatch) async throws { try await commit(.batch(batch)) }

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

    public func createTenant(_ tenant: Tenant) async throws { try await apply(StoreBatch([.createTenant(tenant)])) }
    public func tenant(_ id: TenantID) async throws -> Tenant? { try await read { $0.tenants[id] } }
    public func tenants() async throws -> [Tenant] { try await read { $0.tenants.values.sorted { $0.id < $1.id } } }
    public func updateTenant(_ tenant: Tenant) async throws { try await apply(StoreBatch([.updateTenant(tenant)])) }
    public func deleteTenant(_ id: TenantID) async throws { try await commit(.deleteTenant(id)) }
    public func addAPIKey(_ key: APIKeyRecord) async throws { try await commit(.addAPIKey(key)) }
    public func apiKey(prefix: String) async throws -> APIKeyRecord? { try await read { $0.apiKeys[prefix] } }
    public func revokeAPIKey(prefix: String, at date: Date) async throws { try await commit(.revokeAPIKey(prefix: prefix, at: date)) }

    public func createChip(_ chip: Chip) async throws { try await apply(StoreBatch([.createChip(chip)])) }
    public func chip(_ id: ChipID) async throws -> Chip? { try await read { $0.chips[id] } }
    public func chips(of tenant: TenantID) async throws -> [Chip] { try await read { $0.chips(of: tenant) } }
    public func allChips() async throws -> [Chip] { try await read { $0.chips.values.sorted { $0.id < $1.id } } }
    public func updateChip(_ chip: Chip) async throws { try await apply(StoreBatch([.updateChip(chip)])) }
    public func deleteChip(_ id: ChipID, event: OutboxEntry?) async throws { try await commit(.deleteChip(id, event: event)) }

    public func leasePort(in range: PortRange, host: String, for makeWorker: @escaping @Sendable (Int) -> Worker) async throws -> Worker {
        let leased = CommitResult<Worker>()
        try await commit { state throws(WhagoError) in
            guard let port = state.freePort(in: range, host: host) else {
                throw WhagoError(.capacityExhausted, "no free port in \(range) on \(host)")
            }
            var worker = makeWorker(port)
            worker.host = host
            worker.port = port
            worker.version = 1
            leased.value = worker
            return .insertWorker(worker)
        }
        guard let worker = leased.value else { throw WhagoError(.internal, "port lease committed without a worker") }
        return worker
    }
    public func worker(_ id: WorkerID) async throws -> Worker? { try await read { $0.workers[id] } }
    public func workers() async throws -> [Worker] { try await read { $0.workers.values.sorted { $0.id < $1.id } } }
    public func updateWorker(_ worker: Worker) async throws { try await apply(StoreBatch([.updateWorker(worker)])) }
    public func removeWorker(_ id: WorkerID) async throws { try await commit { state in state.workers[id] == nil ? nil : .removeWorker(id) } }
    public func portLeases() async throws -> [PortLease] { try await read { $0.portLeases } }
    public func portLeaseCounts() async throws -> [String: Int] { try await read { $0.portLeaseCounts } }

    public func insertProxyLease(_ lease: ProxyLease) async throws { try await commit(.insertProxyLease(lease)) }
    public func leaseStickyPort(for chip: ChipID, provider: String, in range: PortRange, startingAt start: Int?,
                                makeLease: @escaping @Sendable (Int) -> ProxyLease) async throws -> ProxyLease {
        let leased = CommitResult<ProxyLease>()
        try await commit { state throws(WhagoError) in
            if let existing = state.proxyLeases[chip] {
                leased.value = existing
                return nil
            }
            guard state.chips[chip] != nil else { throw WhagoError(.notFound, "no chip \(chip)") }
            guard let port = state.freeStickyPort(in: range, provider: provider, startingAt: start) else {
                throw WhagoError(.capacityExhausted, "all \(range.count) sticky ports of \(range) are leased (\(provider))")
            }
            var lease = makeLease(port)
            lease.chip = chip
            lease.provider = provider
            lease.stickyPort = port
            leased.value = lease
            return .insertProxyLease(lease)
        }
        guard let lease = leased.value else { throw WhagoError(.internal, "sticky port lease committed without a lease") }
        return lease
    }
    public func proxyLease(of chip: ChipID) async throws -> ProxyLease? { try await read { $0.proxyLeases[chip] } }
    public func proxyLeases() async throws -> [ProxyLease] { try await read { $0.proxyLeases.values.sorted { $0.chip < $1.chip } } }
    public func proxyLeases(of chips: [ChipID]) async throws -> [ChipID: ProxyLease] {
        try await read { state in
            var leases: [ChipID: ProxyLease] = [:]
            for chip in chips { leases[chip] = state.proxyLeases[chip] }
            return leases
        }
    }
    public func releaseProxyLease(of chip: ChipID) async throws {
        try await commit { state in state.proxyLeases[chip] == nil ? nil : .releaseProxyLease(chip) }
    }

    public func enqueue(_ entries: [OutboxEntry]) async throws {
        guard !entries.isEmpty else { return }
        try await commit(.enqueue(entries))
    }
    public func events(of tenant: TenantID, after sequence: Int64, limit: Int) async throws -> [OutboxEntry] {
        try await read { $0.events(of: tenant, after: sequence, limit: limit) }
    }
    public func dueEntries(now: Date, limit: Int) async throws -> [OutboxEntry] { try await read { $0.dueEntries(now: now, limit: limit) } }
    public func outboxDepth() async throws -> Int { try await read { $0.outbox.count } }
    public func latestEventSequence() async throws -> Int64 { try await read { Int64($0.nextSequence) - 1 } }
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
    public func acknowledge(_ id: EventID) async throws {
        try await commit { state in state.isPending(id) ? .deliver(id, at: Date()) : nil }
    }
    public func reschedule(_ id: EventID, nextAttemptAt: Date, error: String) async throws {
        try await commit(.reschedule(id, nextAttemptAt: nextAttemptAt, error: error))
    }
    public func deadLetter(_ id: EventID, error: String) async throws { try await commit(.deadLetter(id, error: error)) }
    public func deadLetters(of tenant: TenantID?, limit: Int) async throws -> [OutboxEntry] {
        try await read { $0.deadLetters(of: tenant, limit: limit) }
    }
    public func retryDeadLetter(_ id: EventID, at date: Date) async throws { try await commit(.retryDeadLetter(id, at: date)) }
    public func pruneEvents(before date: Date) async throws { try await commit(.pruneEvents(before: date)) }

    public func tenants(after: TenantID?, limit: Int) async throws -> [Tenant] {
        try await read { state in
            Array(state.tenants.values.filter { after == nil || $0.id > after! }.sorted { $0.id < $1.id }.prefix(limit))
        }
    }
    public func chips(of tenant: TenantID, after: ChipID?, limit: Int) async throws -> [Chip] {
        try await read { state in
            Array(state.chips.values.filter { $0.tenant == tenant && (after == nil || $0.id > after!) }.sorted { $0.id < $1.id }.prefix(limit))
        }
    }
    public func chips(on worker: WorkerID) async throws -> [Chip] {
        try await read { $0.chips.values.filter { $0.worker == worker }.sorted { $0.id < $1.id } }
    }
    public func workers(of tenant: TenantID) async throws -> [Worker] {
        try await read { $0.workers.values.filter { $0.tenant == tenant }.sorted { $0.id < $1.id } }
    }
    public func apiKeys(of tenant: TenantID) async throws -> [APIKeyRecord] {
        try await read { $0.apiKeys.values.filter { $0.tenant == tenant }.sorted { $0.prefix < $1.prefix } }
    }

    public func message(_ id: MessageID) async throws -> OutgoingMessage? { try await read { $0.messages[id] } }
    public func message(of chip: ChipID, idempotencyKey: String) async throws -> OutgoingMessage? {
        try await read { $0.message(of: chip, idempotencyKey: idempotencyKey) }
    }
    public func message(of chip: ChipID, providerMessageID: String) async throws -> OutgoingMessage? {
        try await read { $0.message(of: chip, providerMessageID: providerMessageID) }
    }
    public func messageCount(of chip: ChipID, since date: Date) async throws -> Int {
        try await read { $0.messages.values.reduce(0) { $0 + ($1.chip == chip && $1.createdAt >= date ? 1 : 0) } }
    }

    public func seenBefore(requestID: String, at now: Date, window: Duration) async throws -> Bool {
        let seen = CommitResult<Bool>()
        try await commit { state in
            let known = state.hasSeen(requestID, at: now, window: window)
            seen.value = known
            return known ? nil : .markSeen(requestID, at: now, window: window)
        }
        return seen.value ?? false
    }
}

/// Carries a value out of a `commit` closure, which runs exactly once before `commit` returns.
/// `@unchecked`: written inside `commit`, read after it returned, never concurrently.
private final class CommitResult<T>: @unchecked Sendable {
    var value: T?
}
