public import Foundation
public import WhagoCore

// Test set-up in one line each: every write below is one ``StoreBatch`` (the store's only way to
// write), so a test reads as what it arranges, not as batch plumbing.
extension Store {
    public func createTenant(_ tenant: Tenant) async throws { try await apply(.createTenant(tenant)) }
    public func updateTenant(_ tenant: Tenant) async throws { try await apply(.updateTenant(tenant)) }
    public func deleteTenant(_ id: TenantID) async throws { try await apply(.deleteTenant(id)) }
    public func addAPIKey(_ key: APIKeyRecord) async throws { try await apply(.addAPIKey(key)) }
    public func revokeAPIKey(prefix: String, at date: Date) async throws { try await apply(.revokeAPIKey(prefix: prefix, at: date)) }

    public func createChip(_ chip: Chip) async throws { try await apply(.createChip(chip)) }
    public func updateChip(_ chip: Chip) async throws { try await apply(.updateChip(chip)) }
    /// Deletes the chip and, in the same batch, appends `event`.
    public func deleteChip(_ id: ChipID, event: OutboxEntry?) async throws {
        try await apply(StoreBatch([.deleteChip(id)] + (event.map { [.enqueue([$0])] } ?? [])))
    }

    /// Leases the lowest free port of `range` on `host` to the worker `makeWorker` builds (given
    /// the range's first port; the store writes the leased one), and returns it as stored.
    public func leasePort(in range: PortRange, host: String, for makeWorker: @Sendable (Int) -> Worker) async throws -> Worker {
        var worker = makeWorker(range.lowerBound)
        worker.host = host
        try await apply(.leasePort(worker, ports: range))
        guard let leased = try await self.worker(worker.id) else { throw WhagoError(.notFound, "no worker \(worker.id)") }
        return leased
    }
    public func updateWorker(_ worker: Worker) async throws { try await apply(.updateWorker(worker)) }
    public func removeWorker(_ id: WorkerID) async throws { try await apply(.removeWorker(id)) }

    public func insertProxyLease(_ lease: ProxyLease) async throws { try await apply(.insertProxyLease(lease)) }
    public func releaseProxyLease(of chip: ChipID) async throws { try await apply(.releaseProxyLease(chip)) }

    public func enqueue(_ entries: [OutboxEntry]) async throws {
        guard !entries.isEmpty else { return }
        try await apply(.enqueue(entries))
    }
    public func acknowledge(_ id: EventID) async throws { try await apply(.acknowledge(id, at: Date())) }
    public func reschedule(_ id: EventID, nextAttemptAt: Date, error: String) async throws {
        try await apply(.reschedule(id, nextAttemptAt: nextAttemptAt, error: error))
    }
    public func deadLetter(_ id: EventID, error: String) async throws { try await apply(.deadLetter(id, error: error)) }
    public func retryDeadLetter(_ id: EventID, at date: Date) async throws { try await apply(.retryDeadLetter(id, at: date)) }
    public func pruneEvents(before date: Date) async throws { try await apply(.pruneEvents(before: date)) }
}

extension ProxyProvider {
    /// Leases through the store's lease view, as the orchestrator does.
    public func lease(for chip: ChipID, hints: ProxyHints, store: any Store) async throws -> ProxyLease {
        try await lease(for: chip, hints: hints, leases: StoreProxyLeases(store))
    }

    /// Releases through the store's lease view, as the orchestrator does.
    public func release(_ lease: ProxyLease, store: any Store) async throws {
        try await release(lease, leases: StoreProxyLeases(store))
    }
}
