import Foundation
import WhagoCore

/// Where a tenant's chip goes: the tenant's least-loaded worker with room, else a new worker on a
/// port leased from the runtime's pool. Workers are never shared between tenants, and each has
/// keys of its own. Capacity and quota are checked by the store inside the batch that places the
/// chip, so racing creations cannot overfill a worker or a tenant.
struct Placement: Sendable {
    let context: OrchestratorContext

    var capacity: Int { context.sessions.sessionsPerWorker }

    /// Stores a new chip placed on a worker (PROVISIONING): the intent every later step reads.
    func create(_ chip: Chip, quota: Int) async throws -> Chip {
        try await placeWithRetry(chip) { chip, capacity in
            .createChip(chip, quota: quota, capacity: capacity)
        }
    }

    /// Places a stored chip that has no worker (its worker was removed under it).
    func place(_ chip: Chip) async throws -> Chip {
        try await placeWithRetry(chip) { chip, capacity in
            .updateChip(chip, capacity: capacity)
        }
    }

    private func placeWithRetry(_ chip: Chip, _ operation: (Chip, Int) -> StoreOperation) async throws -> Chip {
        var lastError: (any Error)?
        for _ in 0..<8 {
            let worker = try await chooseWorker(for: chip.tenant)
            var placed = chip
            placed.worker = worker.id
            do {
                try await context.store.apply(StoreBatch([operation(placed, capacity)]))
                return try await context.store.chip(chip.id) ?? placed
            } catch let error as WhagoError where error.code == .capacityExhausted {
                // Another chip took the last slot of that worker first: choose again.
                lastError = error
            } catch let error as WhagoError where error.code == .notFound {
                // The worker was removed (reaped) between choosing and placing: choose again.
                lastError = error
            }
        }
        throw lastError ?? WhagoError(.conflict, "could not place chip \(chip.id); retry")
    }

    /// The tenant's least-loaded worker with room, or a new one.
    func chooseWorker(for tenant: TenantID) async throws -> Worker {
        var best: (worker: Worker, load: Int)?
        for worker in try await context.store.workers(of: tenant) {
            let load = try await context.store.chips(on: worker.id).count
            guard load < capacity else { continue }
            if best == nil || load < best!.load { best = (worker, load) }
        }
        if let best { return best.worker }
        return try await newWorker(for: tenant)
    }

    /// A worker record on the lowest free port of the pool, written before anything is launched.
    func newWorker(for tenant: TenantID) async throws -> Worker {
        let ports = context.runtime.workerPorts
        do {
            return try await context.store.leasePort(in: ports.range, host: ports.host) { port in
                let id = WorkerID.make(prefix: "wrk")
                return Worker(id: id, tenant: tenant, name: "whago-\(id.rawValue)", host: ports.host, port: port, runtimeID: nil,
                              apiKey: Secret(Self.randomKey()), webhookSecret: Secret(Self.randomKey()))
            }
        } catch let error as WhagoError where error.code == .capacityExhausted {
            throw WhagoError(.capacityExhausted, "all \(ports.range.count) worker ports of \(ports.setting) (\(ports.range)) are leased "
                + "(\(capacity) chips per worker); widen \(ports.setting) or delete chips")
        }
    }

    /// 32 random bytes as hex: a worker's API key or webhook secret.
    static func randomKey() -> String {
        var generator = SystemRandomNumberGenerator()
        return Hex.encode((0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) })
    }
}
