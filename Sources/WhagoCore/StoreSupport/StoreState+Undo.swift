import Foundation

extension StoreState {
    // MARK: Undoing a batch's operations

    /// What puts back what `operation` is about to change: a batch applies its operations in place
    /// (copying the state would cost its whole size on every batch) and, when one fails, undoes the
    /// ones before it, last first. Taken before the operation, from the entries it touches only.
    func undo(of operation: StoreOperation) -> (inout StoreState) -> Void {
        switch operation {
        case .createTenant(let tenant):
            return { $0.tenants[tenant.id] = nil }
        case .updateTenant(let tenant):
            let old = tenants[tenant.id]
            return { $0.tenants[tenant.id] = old }
        case .deleteTenant(let id):
            let old = tenants[id]
            let keys = apiKeys.values.filter { $0.tenant == id }
            return { state in
                state.tenants[id] = old
                for key in keys { state.apiKeys[key.prefix] = key }
            }
        case .addAPIKey(let key):
            return { $0.apiKeys[key.prefix] = nil }
        case .revokeAPIKey(let prefix, _):
            let old = apiKeys[prefix]
            return { $0.apiKeys[prefix] = old }
        case .createChip(let chip, _, _):
            return { $0.setChip(chip.id, nil) }
        case .updateChip(let chip, _):
            let old = chips[chip.id]
            return { $0.setChip(chip.id, old) }
        case .deleteChip(let id, _):
            let old = chips[id]
            let lease = proxyLeases[id]
            let sent = messages.values.filter { $0.chip == id }
            return { state in
                state.setChip(id, old)
                if let lease { state.restore(lease) }
                for message in sent { state.restore(message) }
            }
        case .updateWorker(let worker):
            let old = workers[worker.id]
            return { $0.workers[worker.id] = old }
        case .moveWorker(let id, _, _, _, _):
            guard let old = workers[id] else { return { _ in } }
            return { state in
                if let moved = state.workers[id] { state.portOwners["\(moved.host):\(moved.port)"] = nil }
                state.workers[id] = old
                state.portOwners["\(old.host):\(old.port)"] = id
            }
        case .removeWorker(let id):
            guard let old = workers[id] else { return { _ in } }
            let placed = chips.values.filter { $0.worker == id }.map(\.id)
            return { state in
                state.workers[id] = old
                state.portOwners["\(old.host):\(old.port)"] = id
                for chip in placed { state.chips[chip]?.worker = id }
            }
        case .leasePort(let worker, _):
            return { state in
                if let leased = state.workers.removeValue(forKey: worker.id) { state.portOwners["\(leased.host):\(leased.port)"] = nil }
            }
        case .insertProxyLease(let lease):
            return { $0.releaseLease(of: lease.chip) }
        case .leaseStickyPort(let request):
            guard proxyLeases[request.chip] == nil else { return { _ in } }
            return { $0.releaseLease(of: request.chip) }
        case .acknowledge(let id, _), .reschedule(let id, _, _), .deadLetter(let id, _):
            guard let sequence = outboxSequence[id], let old = outbox[sequence] else { return { _ in } }
            return { state in
                state.delivered[sequence] = nil
                state.deadLetters[sequence] = nil
                state.outbox[sequence] = old
            }
        case .retryDeadLetter(let id, _, _):
            guard let sequence = outboxSequence[id], let old = deadLetters[sequence] else { return { _ in } }
            return { state in
                state.outbox[sequence] = nil
                state.deadLetters[sequence] = old
            }
        case .pruneEvents(let date):
            let settled = messages.values.filter { $0.createdAt < date && $0.status != .queued }
            let delivered = delivered.filter { ($0.value.deliveredAt ?? $0.value.event.occurredAt) < date }
            let dead = deadLetters.filter { $0.value.event.occurredAt < date }
            return { state in
                for message in settled { state.restore(message) }
                for (sequence, entry) in delivered {
                    state.delivered[sequence] = entry
                    state.outboxSequence[entry.id] = sequence
                }
                for (sequence, entry) in dead {
                    state.deadLetters[sequence] = entry
                    state.outboxSequence[entry.id] = sequence
                }
            }
        case .releaseProxyLease(let chip):
            let old = proxyLeases[chip]
            return { state in if let old { state.restore(old) } }
        case .enqueue(let entries):
            let next = nextSequence
            return { state in
                for entry in entries {
                    if let sequence = state.outboxSequence.removeValue(forKey: entry.id) { state.outbox[sequence] = nil }
                }
                state.nextSequence = next
            }
        case .recordMessage(let message):
            return { $0.forget(message) }
        case .updateMessage(let message):
            guard let old = messages[message.id] else { return { _ in } }
            return { $0.replace(message.id, with: old) }
        }
    }

    mutating func restore(_ lease: ProxyLease) {
        proxyLeases[lease.chip] = lease
        if let sticky = lease.stickyPort { stickyOwners["\(lease.provider):\(sticky)"] = lease.chip }
    }

    mutating func restore(_ message: OutgoingMessage) {
        messages[message.id] = message
        if let key = message.idempotencyKey { messageKeys[Self.messageKey(message.chip, key)] = message.id }
        if let provided = message.providerMessageID { providerKeys[Self.messageKey(message.chip, provided)] = message.id }
    }

    /// Puts `message` in place of the stored one of that id, the provider's id index with it.
    mutating func replace(_ id: MessageID, with message: OutgoingMessage) {
        if let current = messages[id], let provided = current.providerMessageID { providerKeys[Self.messageKey(current.chip, provided)] = nil }
        messages[id] = message
        if let provided = message.providerMessageID { providerKeys[Self.messageKey(message.chip, provided)] = id }
    }

    static func messageKey(_ chip: ChipID, _ key: String) -> String { "\(chip.rawValue) \(key)" }
}
