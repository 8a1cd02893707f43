public import Foundation

extension StoreState {
    /// Pending entries due at `now` that no claim holds, and whose chip has no earlier pending
    /// entry (an event is never handed out before an earlier one of its chip is settled), oldest
    /// first.
    public func dueEntries(now: Date, limit: Int, excluding tenants: Set<TenantID> = []) -> [OutboxEntry] {
        // Each chip's earliest pending entry in one pass; only those heads are sorted (the whole
        // outbox was, once per claim: the delivery loop's largest cost under load).
        var heads: [ChipID: (sequence: UInt64, entry: OutboxEntry)] = [:]
        for (sequence, entry) in outbox {
            if let head = heads[entry.chip], head.sequence < sequence { continue }
            heads[entry.chip] = (sequence, entry)
        }
        return Array(heads.values.sorted { $0.sequence < $1.sequence }.lazy.map(\.entry).filter { entry in
            entry.nextAttemptAt <= now && !(entry.claimedUntil.map { $0 > now } ?? false) && !tenants.contains(entry.tenant)
        }.prefix(limit))
    }

    /// Dead-lettered entries (of one tenant, or all), oldest first.
    public func deadLetters(of tenant: TenantID? = nil, limit: Int) -> [OutboxEntry] {
        Array(deadLetters.sorted { $0.key < $1.key }.lazy.map(\.value).filter { tenant == nil || $0.tenant == tenant }.prefix(limit))
    }

    /// The tenant's entries after `sequence`, in log order, whatever their delivery state.
    public func events(of tenant: TenantID, after sequence: Int64, limit: Int) -> [OutboxEntry] {
        let start = UInt64(max(0, sequence))
        guard start + 1 < nextSequence, limit > 0 else { return [] }
        // Sequences are dense up to `nextSequence`: a cursor near the end (a stream following the
        // log) looks up only the sequences after it, not every entry kept.
        if nextSequence - start - 1 <= UInt64(outbox.count + deadLetters.count + delivered.count) {
            var found: [OutboxEntry] = []
            var next = start + 1
            while next < nextSequence, found.count < limit {
                if let entry = outbox[next] ?? deadLetters[next] ?? delivered[next], entry.tenant == tenant { found.append(entry) }
                next += 1
            }
            return found
        }
        return Array([outbox, deadLetters, delivered].joined().filter { $0.key > start && $0.value.tenant == tenant }
            .sorted { $0.key < $1.key }.lazy.map(\.value).prefix(limit))
    }

    /// The pending entry with this id.
    func pendingEntry(_ id: EventID) -> OutboxEntry? {
        outboxSequence[id].flatMap { outbox[$0] }
    }

    mutating func markDelivered(_ id: EventID, at date: Date) {
        guard let sequence = outboxSequence[id], var entry = outbox.removeValue(forKey: sequence) else { return }
        entry.state = .delivered
        entry.deliveredAt = date
        entry.claimedBy = nil
        entry.claimedUntil = nil
        delivered[sequence] = entry
    }

    /// Also forgets settled messages created before `date` (pacing only counts recent ones).
    mutating func prune(before date: Date) {
        for message in messages.values where message.createdAt < date && message.status != .queued { forget(message) }
        for (sequence, entry) in delivered where (entry.deliveredAt ?? entry.event.occurredAt) < date {
            delivered[sequence] = nil
            outboxSequence[entry.id] = nil
        }
        for (sequence, entry) in deadLetters where entry.event.occurredAt < date {
            deadLetters[sequence] = nil
            outboxSequence[entry.id] = nil
        }
    }
}
