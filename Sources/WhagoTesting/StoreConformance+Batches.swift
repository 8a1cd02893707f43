import Foundation
import Testing
import WhagoCore

/// Versions, batches and their preconditions, under races.
extension StoreConformance {
    /// Every write bumps a record's version; a write based on an old version is a `conflict` and
    /// changes nothing.
    public func versions() async throws {
        let store = try await fresh().store
        defer { Task { await store.shutdown() } }
        try await store.createTenant(Fixtures.tenant("t1"))
        var tenant = try #require(try await store.tenant("t1"))
        #expect(tenant.version == 1)
        tenant.name = "first"
        try await store.updateTenant(tenant)
        let stale = tenant
        tenant = try #require(try await store.tenant("t1"))
        #expect(tenant.version == 2 && tenant.name == "first")
        var late = stale
        late.name = "late"
        try await expectCode(.conflict, "a write based on version 1 after version 2") { try await store.updateTenant(late) }
        #expect(try await store.tenant("t1")?.name == "first")

        try await store.createChip(Fixtures.chip("c1", tenant: "t1"))
        var chip = try #require(try await store.chip("c1"))
        chip.status = .starting
        try await store.updateChip(chip)
        try await expectCode(.conflict) { try await store.updateChip(chip) }
        #expect(try await store.chip("c1")?.version == 2)
        try await expectCode(.conflict, "a delete based on an old version") {
            try await store.apply(StoreBatch([.deleteChip("c1", version: 1)]))
        }
        try await store.apply(StoreBatch([.deleteChip("c1", version: 2)]))
        #expect(try await store.chip("c1") == nil)

        var worker = try await store.leasePort(in: try PortRange(3100, 3101), host: "h1") { Fixtures.worker("w1", port: $0) }
        #expect(worker.version == 1)
        worker.runtimeID = "r1"
        try await store.updateWorker(worker)
        try await expectCode(.conflict) { try await store.updateWorker(worker) }
        #expect(try await store.worker("w1")?.version == 2)
    }

    /// A batch applies all its operations or none: a failure late in a batch leaves no trace of
    /// the operations before it; an operation sees the ones before it in its batch.
    public func batches() async throws {
        let store = try await fresh().store
        defer { Task { await store.shutdown() } }
        try await store.createTenant(Fixtures.tenant("t1"))
        // Create a chip, its lease and its first event, in one change.
        try await store.apply(StoreBatch([
            .createChip(Fixtures.chip("c1", tenant: "t1"), chipLimit: 10),
            .insertProxyLease(Fixtures.proxyLease("c1", sticky: 10001)),
            .enqueue([Fixtures.entry("e1", chip: "c1", tenant: "t1")]),
        ]))
        #expect(try await store.chip("c1") != nil)
        #expect(try await store.proxyLease(of: "c1") != nil)
        #expect(try await store.events(of: "t1", after: 0, limit: 10).map(\.id) == ["e1"])
        // The last operation fails (the sticky port is taken): nothing of the batch is kept.
        try await expectCode(.conflict) {
            try await store.apply(StoreBatch([
                .createChip(Fixtures.chip("c2", tenant: "t1")),
                .enqueue([Fixtures.entry("e2", chip: "c2", tenant: "t1")]),
                .insertProxyLease(Fixtures.proxyLease("c2", sticky: 10001)),
            ]))
        }
        #expect(try await store.chip("c2") == nil)
        #expect(try await store.events(of: "t1", after: 0, limit: 10).map(\.id) == ["e1"])
        // A status change and its event; then delete the chip, its lease and an event together.
        var chip = try #require(try await store.chip("c1"))
        chip.status = .working
        try await store.apply(StoreBatch([.updateChip(chip), .enqueue([Fixtures.entry("e3", chip: "c1", tenant: "t1")])]))
        try await store.apply(StoreBatch([.deleteChip("c1", version: 2), .enqueue([Fixtures.entry("e4", chip: "c1", tenant: "t1")])]))
        #expect(try await store.chip("c1") == nil)
        #expect(try await store.proxyLease(of: "c1") == nil)
        #expect(try await store.events(of: "t1", after: 0, limit: 10).map(\.id) == ["e1", "e3", "e4"])
        // Quota and capacity name their limits.
        try await store.createChip(Fixtures.chip("c5", tenant: "t1"))
        let quota = await #expect(throws: WhagoError.self) {
            try await store.apply(StoreBatch([.createChip(Fixtures.chip("c6", tenant: "t1"), chipLimit: 1)]))
        }
        #expect(quota?.code == .quotaExceeded && quota?.message.contains("(1)") == true, "\(String(describing: quota))")
        let worker = try await store.leasePort(in: try PortRange(3100, 3101), host: "h1") { Fixtures.worker("w1", port: $0) }
        var placed = try #require(try await store.chip("c5"))
        placed.worker = worker.id
        try await store.apply(StoreBatch([.updateChip(placed, capacity: 1)]))
        var second = Fixtures.chip("c7", tenant: "t1")
        second.worker = worker.id
        let full = await #expect(throws: WhagoError.self) {
            try await store.apply(StoreBatch([.createChip(second, capacity: 1)]))
        }
        #expect(full?.code == .capacityExhausted && full?.message.contains("(1)") == true, "\(String(describing: full))")
    }

    /// 16 writers update one chip, each from the version it read: per version exactly one wins,
    /// the others get `conflict`, and no update is lost.
    public func racingVersions() async throws {
        let store = try await fresh().store
        defer { Task { await store.shutdown() } }
        try await store.createTenant(Fixtures.tenant("t1"))
        try await store.createChip(Fixtures.chip("c1", tenant: "t1"))
        let base = try #require(try await store.chip("c1"))
        let winners = try await withThrowingTaskGroup(of: Bool.self) { group in
            for writer in 0..<16 {
                group.addTask {
                    var chip = base
                    chip.metadata = ["writer": "\(writer)"]
                    do {
                        try await store.updateChip(chip)
                        return true
                    } catch let error as WhagoError where error.code == .conflict {
                        return false
                    }
                }
            }
            return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        #expect(winners == 1, "one write per version")
        let stored = try #require(try await store.chip("c1"))
        #expect(stored.version == 2)
        #expect(stored.metadata["writer"] != nil)
        // Writers that read again and retry all get through, one version each.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for writer in 0..<16 {
                group.addTask {
                    while true {
                        guard var chip = try await store.chip("c1") else { return }
                        chip.metadata["count-\(writer)"] = "1"
                        do {
                            try await store.updateChip(chip)
                            return
                        } catch let error as WhagoError where error.code == .conflict {
                            continue
                        }
                    }
                }
            }
            try await group.waitForAll()
        }
        let final = try #require(try await store.chip("c1"))
        #expect(final.version == 18)
        #expect((0..<16).allSatisfy { final.metadata["count-\($0)"] == "1" }, "no update lost")
    }

    /// 16 tasks create chips against a quota of 5: exactly 5 are created.
    public func racingQuota() async throws {
        let store = try await fresh().store
        defer { Task { await store.shutdown() } }
        try await store.createTenant(Fixtures.tenant("t1"))
        let created = try await withThrowingTaskGroup(of: Bool.self) { group in
            for index in 0..<16 {
                group.addTask {
                    do {
                        try await store.apply(StoreBatch([.createChip(Fixtures.chip(ChipID("c\(index)"), tenant: "t1"), chipLimit: 5)]))
                        return true
                    } catch let error as WhagoError where error.code == .quotaExceeded {
                        return false
                    }
                }
            }
            return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        #expect(created == 5)
        #expect(try await store.chips(of: "t1").count == 5, "never over the quota")
    }

    /// 16 tasks place chips on one worker of capacity 3: exactly 3 are placed.
    public func racingCapacity() async throws {
        let store = try await fresh().store
        defer { Task { await store.shutdown() } }
        try await store.createTenant(Fixtures.tenant("t1"))
        let worker = try await store.leasePort(in: try PortRange(3100, 3101), host: "h1") { Fixtures.worker("w1", port: $0) }
        for index in 0..<16 { try await store.createChip(Fixtures.chip(ChipID("c\(index)"), tenant: "t1")) }
        let placed = try await withThrowingTaskGroup(of: Bool.self) { group in
            for index in 0..<16 {
                group.addTask {
                    guard var chip = try await store.chip(ChipID("c\(index)")) else { return false }
                    chip.worker = worker.id
                    do {
                        try await store.apply(StoreBatch([.updateChip(chip, capacity: 3)]))
                        return true
                    } catch let error as WhagoError where error.code == .capacityExhausted {
                        return false
                    }
                }
            }
            return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        #expect(placed == 3)
        #expect(try await store.allChips().filter { $0.worker == worker.id }.count == 3)
    }

    /// A batch of every kind of operation whose last one fails leaves everything as it was.
    public func rollback() async throws {
        let store = try await fresh().store
        defer { Task { await store.shutdown() } }
        try await store.createTenant(Fixtures.tenant("t1"))
        try await store.createTenant(Fixtures.tenant("t2"))
        try await store.addAPIKey(APIKeyRecord(prefix: "wk_1", tenant: "t1", hash: "h", createdAt: Fixtures.date(0)))
        try await store.createChip(Fixtures.chip("c1", tenant: "t1"))
        try await store.insertProxyLease(Fixtures.proxyLease("c1", sticky: 10001))
        let worker = try await store.leasePort(in: try PortRange(3100, 3101), host: "h") { Fixtures.worker("w1", port: $0) }
        var c2 = Fixtures.chip("c2", tenant: "t1")
        c2.worker = worker.id
        try await store.createChip(c2)
        try await store.apply(StoreBatch([.recordMessage(OutgoingMessage(id: "m1", chip: "c1", tenant: "t1", idempotencyKey: "k", chatID: "1@c.us",
                                                                        text: "x", createdAt: Fixtures.date(1)))]))
        try await store.enqueue([Fixtures.entry("e1", chip: "c1", tenant: "t1")])
        let before = (tenants: try await store.tenants(), chips: try await store.allChips(), workers: try await store.workers(),
                      leases: try await store.proxyLeases(), key: try await store.apiKey(prefix: "wk_1"), message: try await store.message("m1"),
                      log: try await store.events(of: "t1", after: 0, limit: 100))

        var t1 = try #require(try await store.tenant("t1"))
        t1.name = "changed"
        var changedC2 = try #require(try await store.chip("c2"))
        changedC2.status = .failed
        var changedWorker = worker
        changedWorker.runtimeID = "changed"
        var m1 = try #require(try await store.message("m1"))
        m1.status = .sent
        try await expectCode(.notFound, "the last operation's tenant does not exist") {
            try await store.apply(StoreBatch([
                .updateTenant(t1), .deleteTenant("t2"),
                .addAPIKey(APIKeyRecord(prefix: "wk_2", tenant: "t1", hash: "h")), .revokeAPIKey(prefix: "wk_1", at: Fixtures.date(5)),
                .createChip(Fixtures.chip("c3", tenant: "t1"), chipLimit: 10), .updateChip(changedC2),
                .updateMessage(m1), .deleteChip("c1", version: 1),
                .updateWorker(changedWorker), .removeWorker("w1"),
                .insertProxyLease(Fixtures.proxyLease("c3", sticky: 10002)), .releaseProxyLease("c3"),
                .insertProxyLease(Fixtures.proxyLease("c3", sticky: 10001)),
                .enqueue([Fixtures.entry("e2", chip: "c3", tenant: "t1")]),
                .recordMessage(OutgoingMessage(id: "m2", chip: "c3", tenant: "t1", idempotencyKey: "k", chatID: "1@c.us", text: "y")),
                .createChip(Fixtures.chip("c4", tenant: "ghost")),
            ]))
        }
        #expect(try await store.tenants() == before.tenants)
        #expect(try await store.allChips() == before.chips)
        #expect(try await store.workers() == before.workers)
        #expect(try await store.proxyLeases() == before.leases)
        #expect(try await store.apiKey(prefix: "wk_1") == before.key)
        #expect(try await store.apiKey(prefix: "wk_2") == nil)
        #expect(try await store.message("m1") == before.message)
        #expect(try await store.message("m2") == nil)
        #expect(try await store.message(of: "c1", idempotencyKey: "k")?.id == "m1")
        #expect(try await store.events(of: "t1", after: 0, limit: 100) == before.log)
        try await expectCode(.conflict, "the sticky port is still c1's") {
            try await store.insertProxyLease(Fixtures.proxyLease("c2", sticky: 10001))
        }
        try await store.enqueue([Fixtures.entry("e3", chip: "c1", tenant: "t1")])
        let sequences = try await store.events(of: "t1", after: 0, limit: 100).map(\.sequence)
        #expect(sequences.count == 2 && sequences[0] < sequences[1], "the log goes on in order: \(sequences)")
    }
}
