import Foundation
import Testing
import WhagoCore

/// Workers moved with their port lease to another host (node), and the lease counts per host.
extension StoreConformance {
    /// A move keeps the worker's port when it is free on the new host, else takes the lowest free
    /// one; it releases the old port, compares versions, honours a fence, is all or nothing inside
    /// a batch, and never hands out a port that a lease holds. (That the moves survive a reopen is
    /// the ``durability()`` check's.)
    public func movingWorkers() async throws {
        let store = try await fresh().store
        _ = try await moveScenario(store)
        await store.shutdown()
    }

    /// The moves of ``movingWorkers()`` on `store`; returns worker `w2` as the last move left it
    /// (on `n4`, port 3101; `n1` leases 3100 and 3101).
    func moveScenario(_ store: any Store) async throws -> Worker {
        try await store.createTenant(Fixtures.tenant("t1"))
        let range = try PortRange(3100, 3101)
        let w1 = try await store.leasePort(in: range, host: "n1") { Fixtures.worker("w1", port: $0) }
        let w2 = try await store.leasePort(in: range, host: "n1") { Fixtures.worker("w2", port: $0) }
        let w3 = try await store.leasePort(in: range, host: "n2") { Fixtures.worker("w3", port: $0) }
        #expect([w1.port, w2.port, w3.port] == [Int]([3100, 3101, 3100]))
        #expect(try await store.portLeaseCounts() == ["n1": 2, "n2": 1])

        // w2's port 3101 is free on n2: kept.
        try await store.apply(StoreBatch([.moveWorker("w2", version: w2.version, host: "n2", address: "10.0.0.2", ports: range)]))
        let moved = try #require(try await store.worker("w2"))
        #expect(moved.host == "n2" && moved.port == 3101 && moved.address == "10.0.0.2")
        #expect(moved.version == w2.version + 1)
        #expect(moved.apiKey == w2.apiKey && moved.tenant == w2.tenant && moved.name == w2.name, "only the lease and address change")
        #expect(try await store.portLeases().map { "\($0.host):\($0.port)=\($0.worker)" } == ["n1:3100=w1", "n2:3100=w3", "n2:3101=w2"])
        #expect(try await store.portLeaseCounts() == ["n1": 1, "n2": 2])

        // The old port is free again on n1.
        let w4 = try await store.leasePort(in: range, host: "n1") { Fixtures.worker("w4", port: $0) }
        #expect(w4.port == 3101)

        // w1's port 3100 is taken on n2, and so is 3101: no room.
        try await expectCode(.capacityExhausted, "n2's ports are all leased") {
            try await store.apply(StoreBatch([.moveWorker("w1", version: w1.version, host: "n2", address: nil, ports: range)]))
        }
        // Free on n3: kept.
        try await store.apply(StoreBatch([.moveWorker("w1", version: w1.version, host: "n3", address: nil, ports: range)]))
        #expect(try await store.worker("w1").map { "\($0.host):\($0.port)" } == "n3:3100")
        let w5 = try await store.leasePort(in: range, host: "n1") { Fixtures.worker("w5", port: $0) }
        #expect(w5.port == 3100, "w1 let go of n1:3100")

        // A port outside the range is kept when free; when taken, the move picks in the range.
        let w6 = try await store.leasePort(in: try PortRange(3200, 3200), host: "n3") { Fixtures.worker("w6", port: $0) }
        try await store.apply(StoreBatch([.moveWorker("w6", version: w6.version, host: "n4", address: nil, ports: range)]))
        #expect(try await store.worker("w6")?.port == 3200)

        // Versions, missing workers, fences, batches.
        try await expectCode(.conflict, "a stale version") {
            try await store.apply(StoreBatch([.moveWorker("w2", version: w2.version, host: "n4", address: nil, ports: range)]))
        }
        try await expectCode(.notFound) {
            try await store.apply(StoreBatch([.moveWorker("nope", version: 1, host: "n4", address: nil, ports: range)]))
        }
        let token = try #require(try await store.acquireLease("leader", holder: "a", ttl: .seconds(60)))
        try await expectCode(.conflict, "an old fencing token") {
            try await store.apply(StoreBatch([.moveWorker("w2", version: moved.version, host: "n4", address: nil, ports: range)],
                                             fence: Fence(lease: "leader", token: FencingToken(token.value - 1))))
        }
        var tenant = try #require(try await store.tenant("t1"))
        tenant.version += 5
        try await expectCode(.conflict, "the batch's second operation fails: the move is undone") {
            try await store.apply(StoreBatch([.moveWorker("w2", version: moved.version, host: "n4", address: nil, ports: range), .updateTenant(tenant)]))
        }
        #expect(try await store.worker("w2") == moved)
        try await expectCode(.capacityExhausted, "n2:3101 is still w2's") {
            _ = try await store.leasePort(in: try PortRange(3101, 3101), host: "n2") { Fixtures.worker("w8", port: $0) }
        }
        try await store.apply(StoreBatch([.moveWorker("w2", version: moved.version, host: "n4", address: "10.0.0.4", ports: range)],
                                         fence: Fence(lease: "leader", token: token)))
        let final = try #require(try await store.worker("w2"))
        #expect(final.host == "n4" && final.port == 3101, "3200 is w6's on n4, but w2's 3101 is free there")

        // Concurrent moves onto one host and leases there: never one port twice.
        try await store.createTenant(Fixtures.tenant("t2"))
        let wide = try PortRange(4000, 4031)
        var racers: [Worker] = []
        for index in 0..<8 {
            racers.append(try await store.leasePort(in: wide, host: "src") { Fixtures.worker(WorkerID(rawValue: "r\(index)"), port: $0, tenant: "t2") })
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for racer in racers {
                group.addTask {
                    try await store.apply(StoreBatch([.moveWorker(racer.id, version: racer.version, host: "dst", address: nil, ports: wide)]))
                }
                group.addTask {
                    _ = try await store.leasePort(in: wide, host: "dst") { Fixtures.worker(WorkerID(rawValue: "l\(racer.id.rawValue)"), port: $0, tenant: "t2") }
                }
            }
            try await group.waitForAll()
        }
        let onDestination = try await store.portLeases().filter { $0.host == "dst" }
        #expect(onDestination.count == 16 && Set(onDestination.map(\.port)).count == 16, "\(onDestination.map(\.port))")
        #expect(try await store.portLeaseCounts()["src"] == nil)

        return final
    }

    /// The moves of ``moveScenario(_:)`` after the store was shut down (twice: harmless) and opened
    /// again: the moved worker, its lease on the new host, the ports free and taken on the old one.
    func movesSurviveReopen(_ subject: Subject, reopen: @Sendable () async throws -> any Store) async throws {
        let final = try await moveScenario(subject.store)
        await subject.store.shutdown()
        await subject.store.shutdown()
        let reopened = try await reopen()
        defer { Task { await reopened.shutdown() } }
        #expect(try await reopened.worker("w2") == final, "the move survives a reopen")
        try await expectCode(.capacityExhausted, "n4's lease of w2 survives") {
            _ = try await reopened.leasePort(in: try PortRange(3101, 3101), host: "n4") { Fixtures.worker("w9", port: $0) }
        }
        let n1 = try await reopened.leasePort(in: try PortRange(3100, 3102), host: "n1") { Fixtures.worker("w9", port: $0) }
        #expect(n1.port == 3102)
    }
}
