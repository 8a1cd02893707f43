public import Foundation

extension StoreState {
    /// Applies a batch completely, or throws and changes nothing: the operations run one after the
    /// other (so an operation sees the ones before it); each either applies whole or throws having
    /// changed nothing, and when one throws, the ones before it are undone, last first.
    mutating func apply(_ batch: StoreBatch) throws(WhagoError) {
        if let fence = batch.fence { try check(fence) }
        var undone: [(inout StoreState) -> Void] = []
        do throws(WhagoError) {
            for operation in batch.operations {
                let undo = undo(of: operation)
                try apply(operation: operation)
                undone.append(undo)
            }
        } catch {
            for undo in undone.reversed() { undo(&self) }
            throw error
        }
    }

    /// Whether `fence` is still its lease's current token.
    func check(_ fence: Fence) throws(WhagoError) {
        guard let lease = leases[fence.lease], lease.token == fence.token else {
            let current = leases[fence.lease].map { "token \($0.token), held by \($0.holder)" } ?? "no holder"
            throw WhagoError(.conflict, "the lease '\(fence.lease)' has changed hands (now \(current)); "
                + "a write fenced with token \(fence.token) is refused")
        }
    }

    private mutating func apply(operation: StoreOperation) throws(WhagoError) {
        switch operation {
        case .createTenant(var tenant):
            tenant.version = 1
            try apply(StoreMutation.createTenant(tenant))
        case .updateTenant(var tenant):
            guard let stored = tenants[tenant.id] else { throw WhagoError(.notFound, "no tenant \(tenant.id)") }
            try Self.compare(stored.version, tenant.version, "tenant \(tenant.id)")
            tenant.version = stored.version + 1
            try apply(StoreMutation.updateTenant(tenant))
        case .deleteTenant(let id):
            try apply(StoreMutation.deleteTenant(id))
        case .addAPIKey(let key):
            try apply(StoreMutation.addAPIKey(key))
        case .revokeAPIKey(let prefix, let date):
            try apply(StoreMutation.revokeAPIKey(prefix: prefix, at: date))
        case .createChip(var chip, let chipLimit, let capacity):
            if let chipLimit {
                let count = chipCount(of: chip.tenant)
                guard count < chipLimit else {
                    throw WhagoError(.quotaExceeded, "tenant \(chip.tenant) has \(count) chips, its limit (\(chipLimit)); delete one or raise the limit")
                }
            }
            if let worker = chip.worker, let capacity { try checkRoom(on: worker, capacity: capacity) }
            chip.version = 1
            try apply(StoreMutation.createChip(chip))
        case .updateChip(var chip, let capacity):
            guard let stored = chips[chip.id] else { throw WhagoError(.notFound, "no chip \(chip.id)") }
            try Self.compare(stored.version, chip.version, "chip \(chip.id)")
            if let worker = chip.worker, worker != stored.worker, let capacity { try checkRoom(on: worker, capacity: capacity) }
            chip.version = stored.version + 1
            try apply(StoreMutation.updateChip(chip))
        case .deleteChip(let id, let version):
            guard let stored = chips[id] else { throw WhagoError(.notFound, "no chip \(id)") }
            if let version { try Self.compare(stored.version, version, "chip \(id)") }
            try apply(StoreMutation.deleteChip(id, event: nil))
        case .updateWorker(var worker):
            guard let stored = workers[worker.id] else { throw WhagoError(.notFound, "no worker \(worker.id)") }
            try Self.compare(stored.version, worker.version, "worker \(worker.id)")
            worker.version = stored.version + 1
            try apply(StoreMutation.updateWorker(worker))
        case .moveWorker(let id, let version, let host, let address, let ports):
            guard var worker = workers[id] else { throw WhagoError(.notFound, "no worker \(id)") }
            try Self.compare(worker.version, version, "worker \(id)")
            let owner = portOwners["\(host):\(worker.port)"]
            guard let port = owner == nil || owner == id ? worker.port : freePort(in: ports, host: host) else {
                throw WhagoError(.capacityExhausted, "no free port in \(ports) on \(host)")
            }
            worker.host = host
            worker.port = port
            worker.address = address
            worker.version += 1
            try apply(StoreMutation.moveWorker(worker))
        case .removeWorker(let id):
            try apply(StoreMutation.removeWorker(id))
        case .leasePort(var worker, let ports):
            guard let port = freePort(in: ports, host: worker.host) else {
                throw WhagoError(.capacityExhausted, "no free port in \(ports) on \(worker.host)")
            }
            worker.port = port
            worker.version = 1
            try apply(StoreMutation.insertWorker(worker))
        case .insertProxyLease(let lease):
            try apply(StoreMutation.insertProxyLease(lease))
        case .leaseStickyPort(let request):
            guard proxyLeases[request.chip] == nil else { return }
            guard chips[request.chip] != nil else { throw WhagoError(.notFound, "no chip \(request.chip)") }
            guard let port = freeStickyPort(in: request.ports, provider: request.provider, startingAt: request.startingAt) else {
                throw WhagoError(.capacityExhausted, "all \(request.ports.count) sticky ports of \(request.ports) are leased (\(request.provider))")
            }
            try apply(StoreMutation.insertProxyLease(request.lease(on: port)))
        case .releaseProxyLease(let chip):
            try apply(StoreMutation.releaseProxyLease(chip))
        case .enqueue(let entries):
            try apply(StoreMutation.enqueue(entries))
        case .acknowledge(let id, let date):
            if isPending(id) { try apply(StoreMutation.deliver(id, at: date)) }
        case .reschedule(let id, let next, let error):
            try apply(StoreMutation.reschedule(id, nextAttemptAt: next, error: error))
        case .deadLetter(let id, let error):
            try apply(StoreMutation.deadLetter(id, error: error))
        case .retryDeadLetter(let id, let date, let tenant):
            if let tenant, let sequence = outboxSequence[id], let entry = deadLetters[sequence], entry.tenant != tenant {
                throw WhagoError(.notFound, "no dead-lettered event \(id)")
            }
            try apply(StoreMutation.retryDeadLetter(id, at: date))
        case .pruneEvents(let date):
            try apply(StoreMutation.pruneEvents(before: date))
        case .recordMessage(let message):
            try record(message)
        case .updateMessage(let message):
            try update(message)
        }
    }

    private static func compare(_ stored: Int, _ expected: Int, _ what: String) throws(WhagoError) {
        guard stored == expected else {
            throw WhagoError(.conflict, "\(what) changed meanwhile (version \(stored), this write was based on \(expected)); read it again")
        }
    }

    private func checkRoom(on worker: WorkerID, capacity: Int) throws(WhagoError) {
        guard workers[worker] != nil else { throw WhagoError(.notFound, "no worker \(worker)") }
        let hosted = chips.values.reduce(0) { $0 + ($1.worker == worker ? 1 : 0) }
        guard hosted < capacity else {
            throw WhagoError(.capacityExhausted, "worker \(worker) hosts \(hosted) chips, its capacity (\(capacity))")
        }
    }

    private func chipCount(of tenant: TenantID) -> Int {
        chips.values.reduce(0) { $0 + ($1.tenant == tenant ? 1 : 0) }
    }

    // MARK: Leases

    /// The lease `name` for `holder` until `now + ttl`: a new token when it was free or expired,
    /// the same token when `holder` already holds it; nil when someone else holds it.
    public func leaseAcquisition(_ name: String, holder: String, ttl: Duration, now: Date) -> StoreLease? {
        let expiresAt = now.addingTimeInterval(ttl.seconds)
        guard let current = leases[name] else {
            return StoreLease(name: name, holder: holder, token: FencingToken(1), expiresAt: expiresAt)
        }
        if current.holder == holder {
            return StoreLease(name: name, holder: holder, token: current.token, expiresAt: expiresAt)
        }
        guard current.expiresAt <= now else { return nil }
        return StoreLease(name: name, holder: holder, token: FencingToken(current.token.value + 1), expiresAt: expiresAt)
    }
}
