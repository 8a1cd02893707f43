import Foundation
import WhagoCore

/// Where a tenant's chip goes: the tenant's least-loaded worker with room, else a new worker on a
/// port leased from the runtime's pool. Workers are never shared between tenants, and each has
/// keys of its own. Capacity and the chip limit are checked by the store inside the batch that places the
/// chip, so racing creations cannot overfill a worker or a tenant.
struct Placement: Sendable {
    let context: OrchestratorContext

    var capacity: Int { context.sessions.sessionsPerWorker }

    /// Stores a new chip placed on a worker (PROVISIONING): the intent every later step reads.
    func create(_ chip: Chip, chipLimit: Int) async throws -> Chip {
        try await placeWithRetry(chip) { chip, capacity in
            .createChip(chip, chipLimit: chipLimit, capacity: capacity)
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

    /// A worker record on the lowest free port of the pool, written before anything is launched;
    /// when the runtime places workers on several nodes, on the least-loaded node (the pool is
    /// per node: the lease's host is the node).
    func newWorker(for tenant: TenantID) async throws -> Worker {
        let ports = context.runtime.workerPorts
        guard context.runtime.placesWorkersOnSeveralHosts else {
            do {
                return try await lease(on: RuntimeNode(id: ports.host, name: ports.host, address: ports.host), for: tenant)
            } catch let error as WhagoError where error.code == .capacityExhausted {
                throw WhagoError(.capacityExhausted, "all \(ports.range.count) worker ports of \(ports.setting) (\(ports.range)) are leased "
                    + "(\(capacity) chips per worker); widen \(ports.setting) or delete chips")
            }
        }
        let nodes = try await context.runtime.nodes()
        for node in Self.candidates(nodes, load: try await context.store.portLeaseCounts(), ports: ports.range) {
            do {
                return try await lease(on: node, for: tenant)
            } catch let error as WhagoError where error.code == .capacityExhausted {
                continue  // Every port of this node is leased: the next node.
            }
        }
        throw Self.noRoom(on: nodes, ports)
    }

    private func lease(on node: RuntimeNode, for tenant: TenantID) async throws -> Worker {
        let ports = context.runtime.workerPorts.range
        let id = WorkerID.make(prefix: "wrk")
        // The store picks the port (the lowest free one of the range on that node).
        var worker = Worker(id: id, tenant: tenant, name: "whago-\(id.rawValue)", host: node.id, port: ports.lowerBound, runtimeID: nil,
                            apiKey: Secret(Hex.random()), webhookSecret: Secret(Hex.random()))
        if context.runtime.placesWorkersOnSeveralHosts { worker.address = node.address }
        try await context.store.apply(.leasePort(worker, ports: ports))
        guard let leased = try await context.store.worker(id) else {
            throw WhagoError(.conflict, "worker \(id) was removed as soon as it was placed; place the chip again")
        }
        return leased
    }

    /// The worker moved off its node (lost) onto the least-loaded other node, with a port leased
    /// there (its own when free): the record as stored. The caller re-creates it there.
    func move(_ worker: Worker, fence: Fence?) async throws -> (worker: Worker, node: RuntimeNode) {
        let ports = context.runtime.workerPorts
        let nodes = try await context.runtime.nodes().filter { $0.id != worker.host }
        for node in Self.candidates(nodes, load: try await context.store.portLeaseCounts(), ports: ports.range) {
            do {
                try await context.store.apply(StoreBatch([.moveWorker(worker.id, version: worker.version, host: node.id, address: node.address,
                                                                      ports: ports.range)], fence: fence))
            } catch let error as WhagoError where error.code == .capacityExhausted {
                continue
            }
            guard let moved = try await context.store.worker(worker.id) else { throw WhagoError(.notFound, "worker \(worker.id) no longer exists") }
            return (moved, node)
        }
        throw Self.noRoom(on: nodes, ports)
    }

    /// The nodes to try, in order, leaving out those whose leases fill the range already (each
    /// try is a store transaction; on a large, full cluster most nodes need not be asked).
    static func candidates(_ nodes: [RuntimeNode], load: [String: Int], ports: PortRange) -> [RuntimeNode] {
        ordered(nodes.filter { load[$0.id, default: 0] < ports.count }, load: load)
    }

    /// Nodes in the order new workers go to them: the least-loaded group of each spread level
    /// first (as Swarm's spread preferences), then the node with the fewest leased ports; equally
    /// loaded nodes in random order, so that placements racing on the same counts (several API
    /// requests, several replicas) spread rather than all take the same node.
    static func ordered(_ nodes: [RuntimeNode], load: [String: Int]) -> [RuntimeNode] {
        let levels = nodes.map(\.spread.count).max() ?? 0
        var groupLoad: [[String]: Int] = [:]
        for node in nodes {
            for level in 0..<levels { groupLoad[Array(node.spread.prefix(level + 1)), default: 0] += load[node.id] ?? 0 }
        }
        func key(_ node: RuntimeNode) -> [Int] {
            (0..<levels).map { groupLoad[Array(node.spread.prefix($0 + 1))] ?? 0 } + [load[node.id] ?? 0]
        }
        return nodes.map { (node: $0, key: key($0), tie: UInt64.random(in: 0...UInt64.max)) }
            .sorted { $0.key == $1.key ? $0.tie < $1.tie : $0.key.lexicographicallyPrecedes($1.key) }
            .map(\.node)
    }

    private static func noRoom(on nodes: [RuntimeNode], _ ports: WorkerPorts) -> WhagoError {
        nodes.isEmpty
            ? WhagoError(.capacityExhausted, "no node takes new workers now (down, drained, or not meeting the runtime's constraints); "
                + "add a node or fix the constraints")
            : WhagoError(.capacityExhausted, "all \(ports.range.count) worker ports of \(ports.setting) (\(ports.range)) are leased on each of "
                + "the \(nodes.count) node\(nodes.count == 1 ? "" : "s") that take workers; widen \(ports.setting), add nodes or delete chips")
    }
}
