import Foundation

/// whago's whole state as one value, and the rules every change must keep (uniqueness, referential
/// integrity, capacity). The in-memory store and the `file` store keep one of these; applying a
/// ``StoreMutation`` either changes it completely or throws and leaves it untouched.
public struct StoreState: Codable, Sendable, Equatable {
    public internal(set) var tenants: [TenantID: Tenant] = [:]
    public internal(set) var apiKeys: [String: APIKeyRecord] = [:]
    public internal(set) var chips: [ChipID: Chip] = [:]
    public internal(set) var workers: [WorkerID: Worker] = [:]
    public internal(set) var proxyLeases: [ChipID: ProxyLease] = [:]
    /// The event log, by sequence, in three parts: entries waiting for delivery, dead-lettered
    /// ones, and delivered ones (kept until pruned).
    public internal(set) var outbox: [UInt64: OutboxEntry] = [:]
    public internal(set) var deadLetters: [UInt64: OutboxEntry] = [:]
    public internal(set) var delivered: [UInt64: OutboxEntry] = [:]
    /// Every event id in the log, with its sequence.
    var outboxSequence: [EventID: UInt64] = [:]
    var nextSequence: UInt64 = 1
    /// "host:port" → worker, the port leases.
    internal(set) var portOwners: [String: WorkerID] = [:]
    /// Named leases with fencing tokens (leadership), by name.
    public internal(set) var leases: [String: StoreLease] = [:]
    /// Outgoing messages, by id.
    public internal(set) var messages: [MessageID: OutgoingMessage] = [:]
    /// "chip idempotency-key" → message (rebuilt from the messages when loaded).
    var messageKeys: [String: MessageID] = [:]
    /// "chip provider-message-id" → message (rebuilt from the messages when loaded), so that a
    /// worker's ack of a message finds whago's record of it.
    var providerKeys: [String: MessageID] = [:]
    /// A sealed known text when the store's secrets are sealed (see ``SecretSealer/keyCheck()``).
    public internal(set) var keyCheck: String?
    /// "provider:port" → chip, the sticky proxy ports (rebuilt from the leases when loaded).
    var stickyOwners: [String: ChipID] = [:]
    /// The chip names taken in each tenant (rebuilt from the chips when loaded): a new chip's name
    /// is checked without reading every chip.
    var chipNames: [ChipName: ChipID] = [:]

    public init() {}

    enum CodingKeys: String, CodingKey {
        case tenants, apiKeys, chips, workers, proxyLeases, outbox, deadLetters, delivered, outboxSequence, nextSequence
        case portOwners, leases, keyCheck, messages
    }

    /// Snapshots written before the event log and leases existed still load.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        tenants = try container.decode([TenantID: Tenant].self, forKey: .tenants)
        apiKeys = try container.decode([String: APIKeyRecord].self, forKey: .apiKeys)
        chips = try container.decode([ChipID: Chip].self, forKey: .chips)
        workers = try container.decode([WorkerID: Worker].self, forKey: .workers)
        proxyLeases = try container.decode([ChipID: ProxyLease].self, forKey: .proxyLeases)
        outbox = try container.decode([UInt64: OutboxEntry].self, forKey: .outbox)
        deadLetters = try container.decode([UInt64: OutboxEntry].self, forKey: .deadLetters)
        delivered = try container.decodeIfPresent([UInt64: OutboxEntry].self, forKey: .delivered) ?? [:]
        outboxSequence = try container.decode([EventID: UInt64].self, forKey: .outboxSequence)
        nextSequence = try container.decode(UInt64.self, forKey: .nextSequence)
        portOwners = try container.decode([String: WorkerID].self, forKey: .portOwners)
        leases = try container.decodeIfPresent([String: StoreLease].self, forKey: .leases) ?? [:]
        keyCheck = try container.decodeIfPresent(String.self, forKey: .keyCheck)
        messages = try container.decodeIfPresent([MessageID: OutgoingMessage].self, forKey: .messages) ?? [:]
        for message in messages.values {
            if let key = message.idempotencyKey { messageKeys[Self.messageKey(message.chip, key)] = message.id }
            if let provided = message.providerMessageID { providerKeys[Self.messageKey(message.chip, provided)] = message.id }
        }
        for chip in chips.values { chipNames[Self.chipName(chip)] = chip.id }
        // Entries from before the log carried their sequence only as their key.
        for lease in proxyLeases.values {
            if let port = lease.stickyPort { stickyOwners["\(lease.provider):\(port)"] = lease.chip }
        }
        for (sequence, entry) in outbox where entry.sequence == 0 { outbox[sequence]?.sequence = Int64(sequence) }
        for (sequence, entry) in deadLetters where entry.sequence == 0 {
            deadLetters[sequence]?.sequence = Int64(sequence)
            deadLetters[sequence]?.state = .dead
        }
    }

    // MARK: Reads

    public func chips(of tenant: TenantID) -> [Chip] {
        chips.values.filter { $0.tenant == tenant }.sorted { ($0.createdAt, $0.id) < ($1.createdAt, $1.id) }
    }

    /// How many ports are leased on each host.
    public var portLeaseCounts: [String: Int] {
        workers.values.reduce(into: [:]) { $0[$1.host, default: 0] += 1 }
    }

    public var portLeases: [PortLease] {
        workers.values.map { PortLease(host: $0.host, port: $0.port, worker: $0.id, leasedAt: $0.createdAt) }
            .sorted { ($0.host, $0.port) < ($1.host, $1.port) }
    }

    /// The first port of `range` from `start` (wrapping) that no lease of `provider` holds.
    public func freeStickyPort(in range: PortRange, provider: String, startingAt start: Int?) -> Int? {
        let size = range.upperBound - range.lowerBound + 1
        let offset = start.map { min(max(0, $0 - range.lowerBound), size - 1) } ?? 0
        for step in 0..<size {
            let port = range.lowerBound + (offset + step) % size
            if stickyOwners["\(provider):\(port)"] == nil { return port }
        }
        return nil
    }

    /// The lowest port of `range` on `host` that no worker holds.
    public func freePort(in range: PortRange, host: String) -> Int? {
        range.first { portOwners["\(host):\($0)"] == nil }
    }

    /// Whether the event waits in the outbox (not delivered, not dead-lettered).
    public func isPending(_ id: EventID) -> Bool { outboxSequence[id].map { outbox[$0] != nil } ?? false }

    // MARK: Changes

    /// Applies a mutation completely, or throws a ``WhagoError`` and changes nothing: every case
    /// checks all its rules before it changes anything (so no copy of the state is needed).
    public mutating func apply(_ mutation: StoreMutation) throws(WhagoError) {
        switch mutation {
        case .createTenant(let tenant):
            guard tenants[tenant.id] == nil else { throw WhagoError(.conflict, "tenant \(tenant.id) already exists") }
            tenants[tenant.id] = tenant
        case .updateTenant(let tenant):
            guard tenants[tenant.id] != nil else { throw WhagoError(.notFound, "no tenant \(tenant.id)") }
            tenants[tenant.id] = tenant
        case .deleteTenant(let id):
            guard tenants[id] != nil else { throw WhagoError(.notFound, "no tenant \(id)") }
            guard !chips.values.contains(where: { $0.tenant == id }) else {
                throw WhagoError(.conflict, "tenant \(id) still has chips; delete them first")
            }
            guard !workers.values.contains(where: { $0.tenant == id }) else {
                throw WhagoError(.conflict, "tenant \(id) still has workers")
            }
            tenants[id] = nil
            apiKeys = apiKeys.filter { $0.value.tenant != id }
        case .addAPIKey(let key):
            guard tenants[key.tenant] != nil else { throw WhagoError(.notFound, "no tenant \(key.tenant)") }
            guard apiKeys[key.prefix] == nil else { throw WhagoError(.conflict, "API key prefix \(key.prefix) is taken") }
            apiKeys[key.prefix] = key
        case .revokeAPIKey(let prefix, let date):
            guard apiKeys[prefix] != nil else { throw WhagoError(.notFound, "no API key \(prefix)") }
            apiKeys[prefix]?.revokedAt = date
        case .createChip(let chip):
            guard chips[chip.id] == nil else { throw WhagoError(.conflict, "chip \(chip.id) already exists") }
            try checkChip(chip)
            setChip(chip.id, chip)
        case .updateChip(let chip):
            guard chips[chip.id] != nil else { throw WhagoError(.notFound, "no chip \(chip.id)") }
            try checkChip(chip)
            setChip(chip.id, chip)
        case .deleteChip(let id, let event):
            guard chips[id] != nil else { throw WhagoError(.notFound, "no chip \(id)") }
            if let event { try checkAppend([event]) }
            setChip(id, nil)
            releaseLease(of: id)
            for message in messages.values where message.chip == id { forget(message) }
            if let event { append([event]) }
        case .insertWorker(let worker):
            guard workers[worker.id] == nil else { throw WhagoError(.conflict, "worker \(worker.id) already exists") }
            guard tenants[worker.tenant] != nil else { throw WhagoError(.notFound, "no tenant \(worker.tenant)") }
            guard (1...65535).contains(worker.port) else { throw WhagoError(.conflict, "port \(worker.port) is not a TCP port") }
            let key = "\(worker.host):\(worker.port)"
            if let owner = portOwners[key] { throw WhagoError(.conflict, "port \(key) is leased to worker \(owner)") }
            workers[worker.id] = worker
            portOwners[key] = worker.id
        case .updateWorker(let worker):
            guard let old = workers[worker.id] else { throw WhagoError(.notFound, "no worker \(worker.id)") }
            guard old.host == worker.host, old.port == worker.port, old.tenant == worker.tenant else {
                throw WhagoError(.conflict, "a worker's tenant never changes, and its host and port only by a move (moveWorker)")
            }
            workers[worker.id] = worker
        case .moveWorker(let worker):
            guard let old = workers[worker.id] else { throw WhagoError(.notFound, "no worker \(worker.id)") }
            guard old.tenant == worker.tenant else { throw WhagoError(.conflict, "a worker's tenant never changes") }
            guard (1...65535).contains(worker.port) else { throw WhagoError(.conflict, "port \(worker.port) is not a TCP port") }
            let key = "\(worker.host):\(worker.port)"
            if let owner = portOwners[key], owner != worker.id { throw WhagoError(.conflict, "port \(key) is leased to worker \(owner)") }
            portOwners["\(old.host):\(old.port)"] = nil
            portOwners[key] = worker.id
            workers[worker.id] = worker
        case .removeWorker(let id):
            guard let worker = workers[id] else { return }
            workers[id] = nil
            portOwners["\(worker.host):\(worker.port)"] = nil
            for chip in chips.values where chip.worker == id { chips[chip.id]?.worker = nil }
        case .insertProxyLease(let lease):
            guard chips[lease.chip] != nil else { throw WhagoError(.notFound, "no chip \(lease.chip)") }
            guard proxyLeases[lease.chip] == nil else { throw WhagoError(.conflict, "chip \(lease.chip) already holds a proxy lease") }
            if let sticky = lease.stickyPort, let holder = stickyOwners["\(lease.provider):\(sticky)"] {
                throw WhagoError(.conflict, "sticky port \(sticky) is leased to chip \(holder)")
            }
            proxyLeases[lease.chip] = lease
            if let sticky = lease.stickyPort { stickyOwners["\(lease.provider):\(sticky)"] = lease.chip }
        case .releaseProxyLease(let chip):
            releaseLease(of: chip)
        case .enqueue(let entries):
            try checkAppend(entries)
            append(entries)
        case .acknowledge(let id):
            // Logs written before the event log: delivered when it was due.
            if let entry = pendingEntry(id) { markDelivered(id, at: entry.nextAttemptAt) }
        case .deliver(let id, let date):
            markDelivered(id, at: date)
        case .reschedule(let id, let next, let error):
            guard let sequence = outboxSequence[id], var entry = outbox[sequence] else { throw WhagoError(.notFound, "no outbox entry \(id)") }
            entry.attempts += 1
            entry.nextAttemptAt = next
            entry.lastError = error
            entry.claimedBy = nil
            entry.claimedUntil = nil
            outbox[sequence] = entry
        case .deadLetter(let id, let error):
            guard let sequence = outboxSequence[id], var entry = outbox.removeValue(forKey: sequence) else {
                throw WhagoError(.notFound, "no outbox entry \(id)")
            }
            entry.attempts += 1
            entry.lastError = error
            entry.state = .dead
            entry.claimedBy = nil
            entry.claimedUntil = nil
            deadLetters[sequence] = entry
        case .retryDeadLetter(let id, let date):
            guard let sequence = outboxSequence[id], var entry = deadLetters.removeValue(forKey: sequence) else {
                throw WhagoError(.notFound, "no dead-lettered event \(id)")
            }
            entry.state = .pending
            entry.attempts = 0
            entry.nextAttemptAt = date
            outbox[sequence] = entry
        case .claim(let ids, let owner, let until):
            for id in ids {
                guard let sequence = outboxSequence[id], outbox[sequence] != nil else { continue }
                outbox[sequence]?.claimedBy = owner
                outbox[sequence]?.claimedUntil = until
            }
        case .pruneEvents(let before):
            prune(before: before)
        case .batch(let batch):
            try apply(batch)
        case .setLease(let lease):
            // Tokens never go back, whatever a caller built.
            if let current = leases[lease.name], lease.token < current.token {
                throw WhagoError(.conflict, "lease \(lease.name) already has token \(current.token)")
            }
            leases[lease.name] = lease
        case .dropLease(let name, let holder):
            // The record stays (expired), so the next holder's token is still larger.
            if var lease = leases[name], lease.holder == holder {
                lease.expiresAt = .distantPast
                leases[name] = lease
            }
        case .setKeyCheck(let check):
            keyCheck = check
        case .markSeen:
            // Logs of a whago that kept a webhook dedupe window still replay; it is no longer kept.
            break
        }
    }

    mutating func releaseLease(of chip: ChipID) {
        guard let lease = proxyLeases.removeValue(forKey: chip) else { return }
        if let sticky = lease.stickyPort { stickyOwners["\(lease.provider):\(sticky)"] = nil }
    }

    func checkChip(_ chip: Chip) throws(WhagoError) {
        guard tenants[chip.tenant] != nil else { throw WhagoError(.notFound, "no tenant \(chip.tenant)") }
        if let other = chipNames[Self.chipName(chip)], other != chip.id {
            throw WhagoError(.conflict, "tenant \(chip.tenant) already has a chip named '\(chip.name)' (\(other))")
        }
        if let worker = chip.worker, workers[worker] == nil { throw WhagoError(.notFound, "no worker \(worker)") }
    }

    /// Stores (or, with nil, removes) a chip, keeping the index of the names taken.
    mutating func setChip(_ id: ChipID, _ chip: Chip?) {
        if let old = chips[id] { chipNames[Self.chipName(old)] = nil }
        chips[id] = chip
        if let chip { chipNames[Self.chipName(chip)] = id }
    }

    struct ChipName: Hashable, Sendable {
        let tenant: TenantID
        let name: String
    }

    static func chipName(_ chip: Chip) -> ChipName { ChipName(tenant: chip.tenant, name: chip.name) }

    func checkAppend(_ entries: [OutboxEntry]) throws(WhagoError) {
        var batch = Set<EventID>()
        for entry in entries {
            guard outboxSequence[entry.id] == nil, batch.insert(entry.id).inserted else {
                throw WhagoError(.conflict, "event \(entry.id) is already in the event log")
            }
        }
    }

    mutating func append(_ entries: [OutboxEntry]) {
        for var entry in entries {
            entry.sequence = Int64(nextSequence)
            entry.state = .pending
            entry.claimedBy = nil
            entry.claimedUntil = nil
            outbox[nextSequence] = entry
            outboxSequence[entry.id] = nextSequence
            nextSequence += 1
        }
    }
}

extension Duration {
    /// The duration in seconds, as a `TimeInterval`.
    public var seconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
