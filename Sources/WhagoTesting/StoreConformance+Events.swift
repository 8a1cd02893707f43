import Foundation
import Testing
import WhagoCore

/// The event log and its delivery.
extension StoreConformance {
    /// The event log: one store-wide order, entries kept after delivery, read per tenant after a
    /// cursor; delivery in per-chip order, at least once, with retries and dead letters.
    public func outbox() async throws {
        let store = try await fresh().store
        defer { Task { await store.shutdown() } }
        try await store.createTenant(Fixtures.tenant("t1"))
        try await store.createTenant(Fixtures.tenant("t2"))
        func entry(_ id: EventID, _ chip: ChipID, _ due: Double, tenant: TenantID = "t1") -> OutboxEntry {
            Fixtures.entry(id, chip: chip, tenant: tenant, due: Fixtures.date(due))
        }
        try await store.enqueue([entry("e1", "c1", 1), entry("e2", "c1", 2), entry("e3", "c2", 3)])
        try await store.enqueue([entry("e4", "c1", 4), entry("e5", "c2", 5), entry("x1", "c9", 1, tenant: "t2")])
        try await expectCode(.conflict, "an id already in the log") { try await store.enqueue([entry("e1", "c1", 9)]) }

        // The log: sequences grow in append order; a tenant reads its own events after a cursor.
        let log = try await store.events(of: "t1", after: 0, limit: 100)
        #expect(log.map(\.id) == ["e1", "e2", "e3", "e4", "e5"])
        #expect(zip(log, log.dropFirst()).allSatisfy { $0.sequence < $1.sequence })
        #expect(try await store.events(of: "t1", after: log[2].sequence, limit: 100).map(\.id) == ["e4", "e5"])
        #expect(try await store.events(of: "t1", after: log[2].sequence, limit: 1).map(\.id) == ["e4"])
        #expect(try await store.events(of: "t2", after: 0, limit: 100).map(\.id) == ["x1"])

        // Due: the earliest pending entry of each chip, oldest first; handed out until acknowledged.
        #expect(try await store.dueEntries(now: Fixtures.date(100), limit: 10).map(\.id) == ["e1", "e3", "x1"])
        #expect(try await store.dueEntries(now: Fixtures.date(100), limit: 1).map(\.id) == ["e1"])
        #expect(try await store.dueEntries(now: Fixtures.date(2), limit: 10).map(\.id) == ["e1", "x1"])
        #expect(try await store.dueEntries(now: Fixtures.date(100), limit: 10).map(\.id) == ["e1", "e3", "x1"], "a read claims nothing")
        try await store.acknowledge("e1")
        try await store.acknowledge("e1")
        #expect(try await store.dueEntries(now: Fixtures.date(100), limit: 10).map(\.id) == ["e2", "e3", "x1"])
        #expect(try await store.events(of: "t1", after: 0, limit: 1).first?.state == .delivered, "delivered entries stay in the log")

        // A failed attempt keeps the chip's later events waiting behind it.
        try await store.reschedule("e2", nextAttemptAt: Fixtures.date(500), error: "HTTP 503")
        #expect(try await store.dueEntries(now: Fixtures.date(100), limit: 10).map(\.id) == ["e3", "x1"])
        let rescheduled = try await store.dueEntries(now: Fixtures.date(600), limit: 10).first
        #expect(rescheduled?.id == "e2" && rescheduled?.attempts == 1 && rescheduled?.lastError == "HTTP 503")
        // A dead letter unblocks them; a retry puts it back in the log's place.
        try await store.deadLetter("e2", error: "gave up after 10 attempts")
        #expect(try await store.deadLetters(limit: 10).map(\.id) == ["e2"])
        #expect(try await store.deadLetters(of: "t2", limit: 10).isEmpty)
        #expect(try await store.deadLetters(of: "t1", limit: 10).first?.lastError == "gave up after 10 attempts")
        #expect(try await store.deadLetters(of: "t1", limit: 10).first?.attempts == 2, "the rescheduled attempt and the last one")
        #expect(try await store.dueEntries(now: Fixtures.date(100), limit: 10).map(\.id) == ["e3", "e4", "x1"])
        try await expectCode(.notFound, "another tenant's dead letter") {
            try await store.apply(.retryDeadLetter("e2", at: Fixtures.date(50), tenant: "t2"))
        }
        #expect(try await store.deadLetters(limit: 10).map(\.id) == ["e2"], "refused, nothing changed")
        try await store.apply(.retryDeadLetter("e2", at: Fixtures.date(50), tenant: "t1"))
        #expect(try await store.deadLetters(limit: 10).isEmpty)
        let retried = try await store.dueEntries(now: Fixtures.date(100), limit: 10)
        #expect(retried.map(\.id) == ["e2", "e3", "x1"], "the retried entry is again first for its chip")
        #expect(retried.first?.attempts == 0)
        try await expectCode(.notFound) { try await store.reschedule("ghost", nextAttemptAt: Fixtures.date(1), error: "x") }
        try await expectCode(.notFound) { try await store.retryDeadLetter("e3", at: Fixtures.date(1)) }

        // Claims: one claimer at a time until the claim expires; a tenant at its delivery cap is left out.
        let others = try await store.claimDue(limit: 10, owner: "d0", for: .seconds(30), now: Fixtures.date(90), excluding: ["t1"])
        #expect(others.map(\.id) == ["x1"], "t1's entries are not claimed")
        try await store.reschedule("x1", nextAttemptAt: Fixtures.date(1), error: "given back")
        let claimed = try await store.claimDue(limit: 10, owner: "d1", for: .seconds(30), now: Fixtures.date(100))
        #expect(claimed.map(\.id) == ["e2", "e3", "x1"])
        #expect(claimed.allSatisfy { $0.claimedBy == "d1" })
        #expect(try await store.claimDue(limit: 10, owner: "d2", for: .seconds(30), now: Fixtures.date(101)).isEmpty)
        try await store.acknowledge("e2")
        #expect(try await store.claimDue(limit: 10, owner: "d2", for: .seconds(30), now: Fixtures.date(102)).map(\.id) == ["e4"],
                "the next of a chip once the earlier one is settled")
        let expired = try await store.claimDue(limit: 10, owner: "d2", for: .seconds(30), now: Fixtures.date(140))
        #expect(expired.map(\.id) == ["e3", "e4", "x1"], "expired claims are handed out again, in log order")
        try await store.reschedule("e3", nextAttemptAt: Fixtures.date(141), error: "timeout")
        #expect(try await store.claimDue(limit: 10, owner: "d3", for: .seconds(30), now: Fixtures.date(142)).map(\.id) == ["e3"],
                "a rescheduled entry's claim is released")

        // Retention: delivered and dead entries older than the cutoff leave the log; pending stay.
        try await store.pruneEvents(before: Date().addingTimeInterval(3600))
        let kept = try await store.events(of: "t1", after: 0, limit: 100)
        #expect(kept.allSatisfy { $0.state == .pending }, "\(kept.map { "\($0.id) \($0.state)" })")
        #expect(Set(kept.map(\.id)) == ["e3", "e4", "e5"])
        #expect(try await store.events(of: "t1", after: log[1].sequence, limit: 100).map(\.id) == ["e3", "e4", "e5"],
                "read after a cursor across pruned entries")
        #expect(try await store.events(of: "t1", after: log[1].sequence, limit: 2).map(\.id) == ["e3", "e4"])

        // "From now on": after the newest sequence (pruned ones included), only what is appended later.
        let latest = try await store.latestEventSequence()
        #expect(latest >= log[4].sequence)
        #expect(try await store.events(of: "t1", after: latest, limit: 100).isEmpty)
        #expect(try await store.events(of: "t2", after: latest, limit: 100).isEmpty)
        try await store.enqueue([entry("e6", "c2", 6)])
        #expect(try await store.events(of: "t1", after: latest, limit: 100).map(\.id) == ["e6"])
        #expect(try await store.latestEventSequence() > latest)
    }

    /// 16 claimers on one log: every entry is claimed by exactly one of them at a time, and a
    /// chip's events are never claimed before its earlier ones are settled.
    public func racingClaims() async throws {
        let store = try await fresh().store
        defer { Task { await store.shutdown() } }
        try await store.createTenant(Fixtures.tenant("t1"))
        let chips = (0..<8).map { ChipID("c\($0)") }
        var entries: [OutboxEntry] = []
        for round in 0..<6 {
            for chip in chips { entries.append(Fixtures.entry(EventID("e-\(chip)-\(round)"), chip: chip, tenant: "t1", due: Fixtures.date(0))) }
        }
        try await store.enqueue(entries)
        let order = Dictionary(uniqueKeysWithValues: try await store.events(of: "t1", after: 0, limit: 1_000).map { ($0.id, $0.sequence) })
        let deliveries = DeliveryLog()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for claimer in 0..<16 {
                group.addTask {
                    var idle = 0
                    while idle < 50 {
                        let batch = try await store.claimDue(limit: 3, owner: "d\(claimer)", for: .seconds(600), now: Fixtures.date(10))
                        if batch.isEmpty {
                            idle += 1
                            try await Task.sleep(for: .milliseconds(5))
                            continue
                        }
                        idle = 0
                        for entry in batch {
                            await deliveries.deliver(entry)
                            try await store.acknowledge(entry.id)
                        }
                    }
                }
            }
            try await group.waitForAll()
        }
        let delivered = await deliveries.entries
        #expect(delivered.count == entries.count, "every entry delivered exactly once")
        #expect(Set(delivered.map(\.id)).count == entries.count)
        for chip in chips {
            let sequences = delivered.filter { $0.chip == chip }.map { order[$0.id] ?? 0 }
            #expect(sequences == sequences.sorted(), "chip \(chip) delivered in order")
        }
    }
}

/// What the claimers of ``StoreConformance/racingClaims()`` delivered, in delivery order.
private actor DeliveryLog {
    private(set) var entries: [OutboxEntry] = []
    func deliver(_ entry: OutboxEntry) { entries.append(entry) }
}
