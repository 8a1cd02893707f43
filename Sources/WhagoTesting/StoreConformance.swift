import Foundation
import Testing
import WhagoCore

/// The behaviour every ``Store`` must have, specified once and run by every store's tests
/// (`file`, `postgres`, in-memory), as every Fluent driver runs FluentBenchmark:
///
/// ```swift
/// @Test(arguments: StoreConformance.Check.allCases)
/// func conformance(_ check: StoreConformance.Check) async throws { try await suite.run(check) }
/// ```
public struct StoreConformance: Sendable {
    /// A store on fresh, empty storage, and a way to close it and open the same storage again.
    public struct Subject: Sendable {
        public var store: any Store
        /// Closes `store` and opens the same storage; `nil` for stores that are not durable.
        public var reopen: (@Sendable () async throws -> any Store)?

        public init(store: any Store, reopen: (@Sendable () async throws -> any Store)?) {
            self.store = store
            self.reopen = reopen
        }
    }

    let fresh: @Sendable () async throws -> Subject

    /// - Parameter fresh: opens a store on new, empty storage for each check.
    public init(fresh: @escaping @Sendable () async throws -> Subject) {
        self.fresh = fresh
    }

    /// The checks, by name: a store's tests run them as one parameterized test,
    /// `@Test(arguments: StoreConformance.Check.allCases)`.
    public enum Check: String, CaseIterable, Sendable {
        case tenantsAndAPIKeys, chips, workersAndPortLeases, proxyLeases, atomicity, concurrentPortLeases, outbox, dedupeWindow,
             notFoundPaths, shutdownTwice, versions, batches, racingVersions, racingQuota, racingCapacity, racingClaims, leases,
             stickyPorts, queries, messages, rollback,
             durability
    }

    /// Runs one check.
    public func run(_ check: Check) async throws {
        switch check {
        case .tenantsAndAPIKeys: try await tenantsAndAPIKeys()
        case .chips: try await chips()
        case .workersAndPortLeases: try await workersAndPortLeases()
        case .proxyLeases: try await proxyLeases()
        case .atomicity: try await atomicity()
        case .concurrentPortLeases: try await concurrentPortLeases()
        case .outbox: try await outbox()
        case .dedupeWindow: try await dedupeWindow()
        case .notFoundPaths: try await notFoundPaths()
        case .versions: try await versions()
        case .batches: try await batches()
        case .racingVersions: try await racingVersions()
        case .racingQuota: try await racingQuota()
        case .racingCapacity: try await racingCapacity()
        case .racingClaims: try await racingClaims()
        case .stickyPorts: try await stickyPorts()
        case .queries: try await queries()
        case .messages: try await messages()
        case .rollback: try await rollback()
        case .leases: try await leases()
        case .shutdownTwice: try await shutdownTwice()
        case .durability: try await durability()
        }
    }

    // MARK: Checks

    public func tenantsAndAPIKeys() async throws {
        let store = try await fresh().store
        defer { Task { await store.shutdown() } }
        let tenant = Fixtures.tenant("t1")
        try await store.createTenant(tenant)
        try await expectCode(.conflict) { try await store.createTenant(tenant) }
        #expect(try await store.tenant("t1") == tenant)
        #expect(try await store.tenant("nope") == nil)
        var renamed = tenant
        renamed.name = "Renamed"
        renamed.chipQuota = 3
        try await store.updateTenant(renamed)
        #expect(try await store.tenant("t1")?.name == "Renamed")
        try await expectCode(.notFound) { try await store.updateTenant(Fixtures.tenant("ghost")) }

        let key = APIKeyRecord(prefix: "wk_abc", tenant: "t1", hash: "sha256:00:11", createdAt: Fixtures.date(0))
        try await store.addAPIKey(key)
        try await expectCode(.conflict) { try await store.addAPIKey(key) }
        try await expectCode(.notFound) { try await store.addAPIKey(APIKeyRecord(prefix: "wk_x", tenant: "ghost", hash: "h")) }
        #expect(try await store.apiKey(prefix: "wk_abc") == key)
        try await store.revokeAPIKey(prefix: "wk_abc", at: Fixtures.date(5))
        #expect(try await store.apiKey(prefix: "wk_abc")?.revokedAt == Fixtures.date(5))

        try await store.createTenant(Fixtures.tenant("t2"))
        #expect(try await store.tenants().map(\.id) == ["t1", "t2"])
        try await store.createChip(Fixtures.chip("c1", tenant: "t2"))
        try await expectCode(.conflict) { try await store.deleteTenant("t2") }
        try await store.deleteTenant("t1")
        #expect(try await store.tenant("t1") == nil)
        #expect(try await store.apiKey(prefix: "wk_abc") == nil, "a tenant's keys go with it")
    }

    public func chips() async throws {
        let store = try await fresh().store
        defer { Task { await store.shutdown() } }
        try await store.createTenant(Fixtures.tenant("t1"))
        try await store.createTenant(Fixtures.tenant("t2"))
        let chip = Fixtures.chip("c1", tenant: "t1", name: "sales")
        try await store.createChip(chip)
        #expect(try await store.chip("c1") == chip)
        try await expectCode(.conflict) { try await store.createChip(chip) }
        try await expectCode(.conflict) { try await store.createChip(Fixtures.chip("c2", tenant: "t1", name: "sales")) }
        try await store.createChip(Fixtures.chip("c3", tenant: "t2", name: "sales"))
        try await expectCode(.notFound) { try await store.createChip(Fixtures.chip("c4", tenant: "ghost")) }
        var updated = chip
        updated.status = .working
        updated.phone = "5511999990000@c.us"
        updated.metadata = ["crm": "42"]
        try await store.updateChip(updated)
        updated.version = 2
        #expect(try await store.chip("c1") == updated, "stored with its version bumped")
        try await expectCode(.notFound) { try await store.updateChip(Fixtures.chip("ghost", tenant: "t1")) }
        var unknownWorker = updated
        unknownWorker.worker = "no-such-worker"
        try await expectCode(.notFound) { try await store.updateChip(unknownWorker) }
        #expect(try await store.chips(of: "t1").map(\.id) == ["c1"])
        #expect(try await store.allChips().map(\.id) == ["c1", "c3"])
        try await store.deleteChip("c1", event: nil)
        #expect(try await store.chip("c1") == nil)
        try await expectCode(.notFound) { try await store.deleteChip("c1", event: nil) }
    }

    public func workersAndPortLeases() async throws {
        let store = try await fresh().store
        defer { Task { await store.shutdown() } }
        try await store.createTenant(Fixtures.tenant("t1"))
        let range = try PortRange(3100, 3102)
        let first = try await store.leasePort(in: range, host: "h1") { Fixtures.worker("w1", port: $0) }
        #expect(first.port == 3100 && first.host == "h1")
        let second = try await store.leasePort(in: range, host: "h1") { Fixtures.worker("w2", port: $0) }
        #expect(second.port == 3101)
        let otherHost = try await store.leasePort(in: range, host: "h2") { Fixtures.worker("w3", port: $0) }
        #expect(otherHost.port == 3100, "ports are leased per host")
        try await expectCode(.conflict) {
            _ = try await store.leasePort(in: range, host: "h1") { Fixtures.worker("w1", port: $0) }
        }
        #expect(try await store.portLeases().map { "\($0.host):\($0.port)=\($0.worker)" } == ["h1:3100=w1", "h1:3101=w2", "h2:3100=w3"])
        var updated = first
        updated.runtimeID = "container-1"
        try await store.updateWorker(updated)
        #expect(try await store.worker("w1")?.runtimeID == "container-1")

        var chip = Fixtures.chip("c1", tenant: "t1")
        chip.worker = "w1"
        try await store.createChip(chip)
        try await store.removeWorker("w1")
        try await store.removeWorker("w1")
        #expect(try await store.worker("w1") == nil)
        #expect(try await store.chip("c1")?.worker == nil, "a removed worker's chips are unplaced")
        let reused = try await store.leasePort(in: range, host: "h1") { Fixtures.worker("w4", port: $0) }
        #expect(reused.port == 3100, "a released port is leased again")
        _ = try await store.leasePort(in: range, host: "h1") { Fixtures.worker("w5", port: $0) }
        try await expectCode(.capacityExhausted) {
            _ = try await store.leasePort(in: range, host: "h1") { Fixtures.worker("w6", port: $0) }
        }
        #expect(try await store.workers().map(\.id) == ["w2", "w3", "w4", "w5"])
    }

    public func proxyLeases() async throws {
        let store = try await fresh().store
        defer { Task { await store.shutdown() } }
        try await store.createTenant(Fixtures.tenant("t1"))
        for id in ["c1", "c2", "c3"] { try await store.createChip(Fixtures.chip(ChipID(id), tenant: "t1", name: id)) }
        let lease = Fixtures.proxyLease("c1", sticky: 10001)
        try await store.insertProxyLease(lease)
        #expect(try await store.proxyLease(of: "c1") == lease)
        try await expectCode(.conflict) { try await store.insertProxyLease(Fixtures.proxyLease("c1", sticky: 10002)) }
        try await expectCode(.conflict) { try await store.insertProxyLease(Fixtures.proxyLease("c2", sticky: 10001)) }
        try await expectCode(.notFound) { try await store.insertProxyLease(Fixtures.proxyLease("ghost", sticky: 10003)) }
        try await store.insertProxyLease(ProxyLease(chip: "c2", provider: "none", endpoint: nil, leasedAt: Fixtures.date(1)))
        try await store.insertProxyLease(ProxyLease(chip: "c3", provider: "none", endpoint: nil, leasedAt: Fixtures.date(1)))
        #expect(try await store.proxyLeases().map(\.chip) == ["c1", "c2", "c3"])
        try await store.releaseProxyLease(of: "c2")
        try await store.releaseProxyLease(of: "c2")
        #expect(try await store.proxyLease(of: "c2") == nil)

        let event = Fixtures.entry("e-deleted", chip: "c1", tenant: "t1")
        try await store.deleteChip("c1", event: event)
        #expect(try await store.proxyLease(of: "c1") == nil, "deleting a chip releases its lease")
        #expect(try await store.dueEntries(now: Fixtures.date(100), limit: 10).map(\.id) == ["e-deleted"])
        try await store.insertProxyLease(Fixtures.proxyLease("c2", sticky: 10001))
    }

    public func atomicity() async throws {
        let store = try await fresh().store
        defer { Task { await store.shutdown() } }
        try await store.createTenant(Fixtures.tenant("t1"))
        try await store.createChip(Fixtures.chip("c1", tenant: "t1"))
        try await store.insertProxyLease(Fixtures.proxyLease("c1", sticky: 10001))
        try await store.enqueue([Fixtures.entry("e1", chip: "c1", tenant: "t1")])
        // Deleting the chip and enqueueing an event whose id is taken fails half-way: nothing changes.
        try await expectCode(.conflict) { try await store.deleteChip("c1", event: Fixtures.entry("e1", chip: "c1", tenant: "t1")) }
        #expect(try await store.chip("c1") != nil)
        #expect(try await store.proxyLease(of: "c1") != nil)
        #expect(try await store.dueEntries(now: Fixtures.date(100), limit: 10).count == 1)
        // A batch with a duplicate inside enqueues nothing.
        try await expectCode(.conflict) {
            try await store.enqueue([Fixtures.entry("e2", chip: "c1", tenant: "t1"), Fixtures.entry("e2", chip: "c1", tenant: "t1")])
        }
        #expect(try await store.dueEntries(now: Fixtures.date(100), limit: 10).map(\.id) == ["e1"])
    }

    public func concurrentPortLeases() async throws {
        let store = try await fresh().store
        defer { Task { await store.shutdown() } }
        try await store.createTenant(Fixtures.tenant("t1"))
        let range = try PortRange(4000, 4099)
        let ports = try await withThrowingTaskGroup(of: Int.self) { group in
            for index in 0..<100 {
                group.addTask {
                    try await store.leasePort(in: range, host: "h1") { Fixtures.worker(WorkerID("w\(index)"), port: $0) }.port
                }
            }
            return try await group.reduce(into: [Int]()) { $0.append($1) }
        }
        #expect(ports.count == 100)
        #expect(Set(ports) == Set(4000...4099), "every port leased exactly once")
        try await expectCode(.capacityExhausted) {
            _ = try await store.leasePort(in: range, host: "h1") { Fixtures.worker("w100", port: $0) }
        }
    }

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
        #expect(try await store.dueEntries(now: Fixtures.date(100), limit: 10).map(\.id) == ["e3", "e4", "x1"])
        try await store.retryDeadLetter("e2", at: Fixtures.date(50))
        #expect(try await store.deadLetters(limit: 10).isEmpty)
        let retried = try await store.dueEntries(now: Fixtures.date(100), limit: 10)
        #expect(retried.map(\.id) == ["e2", "e3", "x1"], "the retried entry is again first for its chip")
        #expect(retried.first?.attempts == 0)
        try await expectCode(.notFound) { try await store.reschedule("ghost", nextAttemptAt: Fixtures.date(1), error: "x") }
        try await expectCode(.notFound) { try await store.retryDeadLetter("e3", at: Fixtures.date(1)) }

        // Claims: one claimer at a time until the claim expires.
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

    public func dedupeWindow() async throws {
        let store = try await fresh().store
        defer { Task { await store.shutdown() } }
        let window = Duration.seconds(60)
        #expect(try await store.seenBefore(requestID: "r1", at: Fixtures.date(0), window: window) == false)
        #expect(try await store.seenBefore(requestID: "r1", at: Fixtures.date(30), window: window) == true)
        #expect(try await store.seenBefore(requestID: "r2", at: Fixtures.date(31), window: window) == false)
        #expect(try await store.seenBefore(requestID: "r1", at: Fixtures.date(61), window: window) == false, "forgotten after the window")
        #expect(try await store.seenBefore(requestID: "r1", at: Fixtures.date(62), window: window) == true)
    }

    /// Every update or delete of a missing record that the protocol does not call idempotent is
    /// `not_found`, and changes nothing.
    public func notFoundPaths() async throws {
        let store = try await fresh().store
        defer { Task { await store.shutdown() } }
        try await store.createTenant(Fixtures.tenant("t1"))
        try await expectCode(.notFound) { try await store.updateTenant(Fixtures.tenant("ghost")) }
        try await expectCode(.notFound) { try await store.deleteTenant("ghost") }
        try await expectCode(.notFound) { try await store.revokeAPIKey(prefix: "wk_ghost", at: Fixtures.date(1)) }
        try await expectCode(.notFound) { try await store.updateChip(Fixtures.chip("ghost", tenant: "t1")) }
        try await expectCode(.notFound) { try await store.deleteChip("ghost", event: nil) }
        try await expectCode(.notFound) { try await store.updateWorker(Fixtures.worker("ghost", port: 3100)) }
        try await expectCode(.notFound) { try await store.insertProxyLease(Fixtures.proxyLease("ghost", sticky: 10001)) }
        try await expectCode(.notFound) { try await store.reschedule("ghost", nextAttemptAt: Fixtures.date(1), error: "x") }
        try await expectCode(.notFound) { try await store.deadLetter("ghost", error: "x") }
        // The idempotent ones.
        try await store.removeWorker("ghost")
        try await store.releaseProxyLease(of: "ghost")
        try await store.acknowledge("ghost")
        #expect(try await store.tenants().map(\.id) == ["t1"])
        #expect(try await store.workers().isEmpty)
        #expect(try await store.deadLetters(limit: 10).isEmpty)
    }

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
            .createChip(Fixtures.chip("c1", tenant: "t1"), quota: 10),
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
            try await store.apply(StoreBatch([.createChip(Fixtures.chip("c6", tenant: "t1"), quota: 1)]))
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
                        try await store.apply(StoreBatch([.createChip(Fixtures.chip(ChipID("c\(index)"), tenant: "t1"), quota: 5)]))
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

    /// One holder at a time; the token grows when the holder changes; a deposed holder's fenced
    /// write is refused, the new holder's accepted.
    public func leases() async throws {
        let store = try await fresh().store
        defer { Task { await store.shutdown() } }
        try await store.createTenant(Fixtures.tenant("t1"))
        let first = try #require(try await store.acquireLease("leader", holder: "a", ttl: .seconds(60)))
        #expect(try await store.acquireLease("leader", holder: "b", ttl: .seconds(30)) == nil, "held by a")
        #expect(try await store.acquireLease("leader", holder: "a", ttl: .seconds(60)) == first, "a again: same token")
        #expect(try await store.renewLease("leader", holder: "a", token: first, ttl: .seconds(60)))
        #expect(try await store.renewLease("leader", holder: "b", token: first, ttl: .seconds(30)) == false)
        var tenant = try #require(try await store.tenant("t1"))
        tenant.name = "by a"
        try await store.apply(StoreBatch([.updateTenant(tenant)], fence: Fence(lease: "leader", token: first)))

        // a's last renewal is a short one and it stops; once the lease expired, b takes it with a
        // larger token.
        #expect(try await store.renewLease("leader", holder: "a", token: first, ttl: .milliseconds(1)))
        var second: FencingToken?
        let deadline = ContinuousClock.now + .seconds(30)
        while second == nil, ContinuousClock.now < deadline {
            second = try await store.acquireLease("leader", holder: "b", ttl: .seconds(30))
            if second == nil { try await Task.sleep(for: .milliseconds(50)) }
        }
        let taken = try #require(second, "b took the expired lease")
        #expect(taken > first)
        #expect(try await store.renewLease("leader", holder: "a", token: first, ttl: .seconds(30)) == false, "a was deposed")
        tenant = try #require(try await store.tenant("t1"))
        var late = tenant
        late.name = "late write by a"
        try await expectCode(.conflict, "the deposed leader's write") {
            try await store.apply(StoreBatch([.updateTenant(late)], fence: Fence(lease: "leader", token: first)))
        }
        #expect(try await store.tenant("t1")?.name == "by a")
        late.name = "by b"
        try await store.apply(StoreBatch([.updateTenant(late)], fence: Fence(lease: "leader", token: taken)))
        #expect(try await store.tenant("t1")?.name == "by b")

        // Released: taken at once by another, with a still larger token.
        try await store.releaseLease("leader", holder: "b")
        let third = try #require(try await store.acquireLease("leader", holder: "c", ttl: .seconds(30)))
        #expect(third > taken)
        try await expectCode(.conflict) {
            try await store.apply(StoreBatch([.enqueue([Fixtures.entry("e1", chip: "c1", tenant: "t1")])], fence: Fence(lease: "leader", token: taken)))
        }
        try await expectCode(.conflict, "a fence on a lease nobody ever held") {
            try await store.apply(StoreBatch([], fence: Fence(lease: "nobody", token: FencingToken(1))))
        }
    }

    /// Sticky proxy ports chosen by the store: the lowest free one (or from a start, wrapping),
    /// one chip each per provider, the chip's own lease again when it has one, no password kept.
    public func stickyPorts() async throws {
        let store = try await fresh().store
        defer { Task { await store.shutdown() } }
        try await store.createTenant(Fixtures.tenant("t1"))
        let chips = (0..<20).map { ChipID("c\($0)") }
        for chip in chips { try await store.createChip(Fixtures.chip(chip, tenant: "t1")) }
        let range = try PortRange(10000, 10015)
        @Sendable func lease(_ chip: ChipID, provider: String = "di", start: Int? = nil) async throws -> ProxyLease {
            try await store.leaseStickyPort(for: chip, provider: provider, in: range, startingAt: start) { port in
                Fixtures.proxyLease(chip, sticky: port)
            }
        }
        #expect(try await lease("c0").stickyPort == 10000)
        #expect(try await lease("c0").stickyPort == 10000, "the chip's own lease again")
        #expect(try await lease("c1", start: 10014).stickyPort == 10014)
        #expect(try await lease("c2", start: 10014).stickyPort == 10015)
        #expect(try await lease("c3", start: 10015).stickyPort == 10001, "wrapping around")
        try await store.releaseProxyLease(of: "c1")
        #expect(try await lease("c4", start: 10014).stickyPort == 10014, "a released port is free again")
        #expect(try await store.proxyLease(of: "c0")?.endpoint?.password == nil, "a lease keeps no password")
        // Another provider has its own ports.
        #expect(try await lease("c5", provider: "other").stickyPort == 10000)
        try await expectCode(.notFound) { _ = try await lease("ghost") }
        // 14 at once for the 12 ports left: each port once, the rest capacity_exhausted.
        let results = try await withThrowingTaskGroup(of: Int?.self) { group in
            for chip in chips.dropFirst(6) {
                group.addTask {
                    do {
                        return try await lease(chip).stickyPort
                    } catch let error as WhagoError where error.code == .capacityExhausted {
                        return nil
                    }
                }
            }
            return try await group.reduce(into: [Int?]()) { $0.append($1) }
        }
        let ports = results.compactMap { $0 }
        #expect(ports.count == 12 && Set(ports).count == 12, "\(ports)")
        #expect(try await store.proxyLeases().filter { $0.provider == "di" }.count == 16)
    }

    /// Keyset pagination and the lookups the API and the orchestrator make.
    public func queries() async throws {
        let store = try await fresh().store
        defer { Task { await store.shutdown() } }
        for tenant: TenantID in ["t3", "t1", "t2"] { try await store.createTenant(Fixtures.tenant(tenant)) }
        #expect(try await store.tenants(after: nil, limit: 2).map(\.id) == ["t1", "t2"])
        #expect(try await store.tenants(after: "t2", limit: 2).map(\.id) == ["t3"])
        // Ids made by ChipID.make sort by creation time: pages walk the chips in that order.
        let made = (0..<5).map { ChipID.make(prefix: "chip", at: Fixtures.date(Double($0))) }
        for (index, id) in made.enumerated() { try await store.createChip(Fixtures.chip(id, tenant: index == 4 ? "t2" : "t1")) }
        let first = try await store.chips(of: "t1", after: nil, limit: 3)
        #expect(first.map(\.id) == Array(made.prefix(3)))
        #expect(try await store.chips(of: "t1", after: first.last?.id, limit: 3).map(\.id) == [made[3]])
        #expect(try await store.chips(of: "t2", after: nil, limit: 10).map(\.id) == [made[4]])
        let worker = try await store.leasePort(in: try PortRange(3100, 3101), host: "h") { Fixtures.worker("w1", port: $0) }
        var placed = try #require(try await store.chip(made[1]))
        placed.worker = worker.id
        try await store.updateChip(placed)
        #expect(try await store.chips(on: "w1").map(\.id) == [made[1]])
        #expect(try await store.workers(of: "t1").map(\.id) == ["w1"])
        #expect(try await store.workers(of: "t2").isEmpty)
        try await store.addAPIKey(APIKeyRecord(prefix: "wk_b", tenant: "t1", hash: "h", createdAt: Fixtures.date(0)))
        try await store.addAPIKey(APIKeyRecord(prefix: "wk_a", tenant: "t1", hash: "h", createdAt: Fixtures.date(0)))
        try await store.addAPIKey(APIKeyRecord(prefix: "wk_c", tenant: "t2", hash: "h", createdAt: Fixtures.date(0)))
        #expect(try await store.apiKeys(of: "t1").map(\.prefix) == ["wk_a", "wk_b"])
    }

    /// Outgoing messages: recorded before the send, unique per chip and idempotency key, updated
    /// by version, counted for pacing, gone with their chip.
    public func messages() async throws {
        let store = try await fresh().store
        defer { Task { await store.shutdown() } }
        try await store.createTenant(Fixtures.tenant("t1"))
        try await store.createChip(Fixtures.chip("c1", tenant: "t1"))
        let message = OutgoingMessage(id: "m1", chip: "c1", tenant: "t1", idempotencyKey: "k1", chatID: "5511@c.us", text: "hi",
                                      createdAt: Fixtures.date(10))
        try await store.apply(StoreBatch([.recordMessage(message)]))
        try await expectCode(.conflict, "the same idempotency key again") {
            try await store.apply(StoreBatch([.recordMessage(OutgoingMessage(id: "m2", chip: "c1", tenant: "t1", idempotencyKey: "k1",
                                                                            chatID: "5511@c.us", text: "hi again"))]))
        }
        #expect(try await store.message(of: "c1", idempotencyKey: "k1")?.id == "m1")
        #expect(try await store.message(of: "c1", idempotencyKey: "other") == nil)
        try await store.apply(StoreBatch([.recordMessage(OutgoingMessage(id: "m3", chip: "c1", tenant: "t1", chatID: "5511@c.us", text: "x",
                                                                        createdAt: Fixtures.date(20)))]))
        try await expectCode(.notFound) {
            try await store.apply(StoreBatch([.recordMessage(OutgoingMessage(id: "m4", chip: "ghost", tenant: "t1", chatID: "1@c.us", text: "x"))]))
        }
        var sent = try #require(try await store.message("m1"))
        sent.status = .sent
        sent.providerMessageID = "true_5511@c.us_ABC"
        sent.sentAt = Fixtures.date(11)
        try await store.apply(StoreBatch([.updateMessage(sent)]))
        try await expectCode(.conflict, "a stale update") { try await store.apply(StoreBatch([.updateMessage(sent)])) }
        #expect(try await store.message("m1")?.status == .sent)
        #expect(try await store.message("m1")?.version == 2)
        #expect(try await store.messageCount(of: "c1", since: Fixtures.date(0)) == 2)
        #expect(try await store.messageCount(of: "c1", since: Fixtures.date(15)) == 1)
        try await store.deleteChip("c1", event: nil)
        #expect(try await store.message("m1") == nil, "a chip's messages go with it")
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
                .createChip(Fixtures.chip("c3", tenant: "t1"), quota: 10), .updateChip(changedC2),
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

    /// `shutdown()` twice is harmless, and the storage opens again afterwards.
    public func shutdownTwice() async throws {
        let subject = try await fresh()
        try await subject.store.createTenant(Fixtures.tenant("t1"))
        await subject.store.shutdown()
        await subject.store.shutdown()
        guard let reopen = subject.reopen else { return }
        let reopened = try await reopen()
        #expect(try await reopened.tenant("t1") != nil)
        await reopened.shutdown()
        await reopened.shutdown()
    }

    public func durability() async throws {
        let subject = try await fresh()
        guard let reopen = subject.reopen else {
            Issue.record("the durability check needs a store that can be reopened; a store that is not durable must not run it")
            return
        }
        let store = subject.store
        try await store.createTenant(Fixtures.tenant("t1"))
        try await store.addAPIKey(APIKeyRecord(prefix: "wk_1", tenant: "t1", hash: "h", createdAt: Fixtures.date(0)))
        var chip = Fixtures.chip("c1", tenant: "t1")
        let worker = try await store.leasePort(in: try PortRange(3100, 3199), host: "h1") { Fixtures.worker("w1", port: $0) }
        chip.worker = worker.id
        try await store.createChip(chip)
        try await store.insertProxyLease(Fixtures.proxyLease("c1", sticky: 10001))
        try await store.enqueue([Fixtures.entry("e1", chip: "c1", tenant: "t1"), Fixtures.entry("e2", chip: "c1", tenant: "t1")])
        try await store.acknowledge("e1")
        _ = try await store.seenBefore(requestID: "r1", at: Fixtures.date(0), window: .seconds(60))
        var tenant = try #require(try await store.tenant("t1"))
        tenant.name = "renamed"
        try await store.updateTenant(tenant)
        let token = try #require(try await store.acquireLease("leader", holder: "a", ttl: .seconds(60)))

        let reopened = try await reopen()
        defer { Task { await reopened.shutdown() } }
        #expect(try await reopened.tenant("t1")?.version == 2, "versions survive")
        #expect(try await reopened.tenant("t1")?.name == "renamed")
        #expect(try await reopened.acquireLease("leader", holder: "b", ttl: .seconds(60)) == nil, "the lease survives")
        #expect(try await reopened.acquireLease("leader", holder: "a", ttl: .seconds(60)) == token)
        #expect(try await reopened.apiKey(prefix: "wk_1")?.tenant == "t1")
        #expect(try await reopened.chip("c1") == chip)
        #expect(try await reopened.worker("w1") == worker)
        #expect(try await reopened.proxyLease(of: "c1") == Fixtures.proxyLease("c1", sticky: 10001))
        #expect(try await reopened.dueEntries(now: Fixtures.date(100), limit: 10).map(\.id) == ["e2"])
        #expect(try await reopened.seenBefore(requestID: "r1", at: Fixtures.date(1), window: .seconds(60)) == true)
        try await expectCode(.capacityExhausted, "the port lease survived") {
            _ = try await reopened.leasePort(in: try PortRange(3100, 3100), host: "h1") { Fixtures.worker("w2", port: $0) }
        }
    }

    private func expectCode(_ code: WhagoError.Code, _ comment: Comment? = nil, sourceLocation: SourceLocation = #_sourceLocation,
                            _ body: () async throws -> Void) async throws {
        do {
            try await body()
            Issue.record("expected a WhagoError with code \(code), nothing was thrown; \(comment?.rawValue ?? "")", sourceLocation: sourceLocation)
        } catch let error as WhagoError {
            #expect(error.code == code, "\(error)", sourceLocation: sourceLocation)
        }
    }
}

/// Records the conformance suite writes, with fixed dates so that equality checks are exact.
public enum Fixtures {
    public static func date(_ seconds: Double) -> Date { Date(timeIntervalSince1970: 1_800_000_000 + seconds) }

    public static func tenant(_ id: TenantID) -> Tenant {
        Tenant(id: id, name: "Tenant \(id)", webhookURL: URL(string: "https://saas.example/hooks/\(id)"), createdAt: date(0))
    }

    public static func chip(_ id: ChipID, tenant: TenantID, name: String? = nil) -> Chip {
        Chip(id: id, tenant: tenant, name: name ?? id.rawValue, createdAt: date(0))
    }

    public static func worker(_ id: WorkerID, port: Int, tenant: TenantID = "t1") -> Worker {
        Worker(id: id, tenant: tenant, name: "whago-\(id)", host: "", port: port, apiKey: Secret("key-\(id)"),
               webhookSecret: Secret("hmac-\(id)"), createdAt: date(0))
    }

    public static func proxyLease(_ chip: ChipID, sticky: Int) -> ProxyLease {
        ProxyLease(chip: chip, provider: "dataimpulse",
                   endpoint: ProxyEndpoint(scheme: .socks5h, host: "gw.example", port: sticky, username: "login__cr.br", password: Secret("pw")),
                   stickyPort: sticky, leasedAt: date(1))
    }

    public static func entry(_ id: EventID, chip: ChipID, tenant: TenantID, due: Date? = nil) -> OutboxEntry {
        OutboxEntry(event: ChipEvent(id: id, chip: chip, kind: .statusChanged, status: .working,
                                     payload: .object(["status": "WORKING"]), occurredAt: date(2)),
                    tenant: tenant, nextAttemptAt: due ?? date(2))
    }
}

/// What the claimers of ``StoreConformance/racingClaims()`` delivered, in delivery order.
private actor DeliveryLog {
    private(set) var entries: [OutboxEntry] = []
    func deliver(_ entry: OutboxEntry) { entries.append(entry) }
}
