import Foundation
import Testing
public import WhagoCore

/// The behaviour every ``Store`` must have, specified once and run by every store's tests
/// (`file`, `postgres`, in-memory), as every Fluent driver runs FluentBenchmark:
///
/// ```swift
/// @Test(arguments: StoreConformance.Check.allCases)
/// func conformance(_ check: StoreConformance.Check) async throws { try await suite.run(check) }
/// ```
public struct StoreConformance: Sendable {
    /// A store on fresh, empty storage, and a way to close it and open the same storage again.
    ///
    /// Every durable store must give ``reopen``: the ``Check/durability`` check needs it and
    /// fails without it. Only a store that keeps nothing across a restart (the in-memory test
    /// double) is ``volatile(_:)``; it runs ``Check/volatileCases``, which leave durability out.
    public struct Subject: Sendable {
        public var store: any Store
        /// Closes `store` and opens the same storage; `nil` only for a ``volatile(_:)`` store.
        public private(set) var reopen: (@Sendable () async throws -> any Store)?

        /// A durable store: `reopen` closes `store` and opens the same storage again.
        public init(store: any Store, reopen: @escaping @Sendable () async throws -> any Store) {
            self.store = store
            self.reopen = reopen
        }

        private init(volatile store: any Store) {
            self.store = store
            reopen = nil
        }

        /// A store that keeps nothing when closed: the durability check does not apply to it.
        public static func volatile(_ store: any Store) -> Subject { Subject(volatile: store) }
    }

    let fresh: @Sendable () async throws -> Subject

    /// - Parameter fresh: opens a store on new, empty storage for each check.
    public init(fresh: @escaping @Sendable () async throws -> Subject) {
        self.fresh = fresh
    }

    /// The checks, by name: a durable store's tests run them all as one parameterized test,
    /// `@Test(arguments: StoreConformance.Check.allCases)`.
    public enum Check: String, CaseIterable, Sendable {
        case tenantsAndAPIKeys, chips, workersAndPortLeases, proxyLeases, atomicity, concurrentPortLeases, outbox,
             notFoundPaths, shutdownTwice, versions, batches, racingVersions, racingQuota, racingCapacity, racingClaims, leases,
             stickyPorts, queries, messages, rollback, movingWorkers,
             durability

        /// Every check but ``durability``: what a ``Subject/volatile(_:)`` store (one that keeps
        /// nothing across a restart) runs. A durable store runs ``allCases``.
        public static var volatileCases: [Check] { allCases.filter { $0 != .durability } }
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
        case .movingWorkers: try await movingWorkers()
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
        renamed.chipLimit = 3
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
        var taken = try #require(try await store.chip("c3"))
        taken.tenant = "t1"
        try await expectCode(.conflict, "moved into a tenant that has the name") { try await store.updateChip(taken) }
        var renamed = updated
        renamed.name = "support"
        try await store.updateChip(renamed)
        try await store.createChip(Fixtures.chip("c5", tenant: "t1", name: "sales"))
        try await expectCode(.conflict, "the new name is taken") { try await store.createChip(Fixtures.chip("c6", tenant: "t1", name: "support")) }
        try await store.deleteChip("c1", event: nil)
        #expect(try await store.chip("c1") == nil)
        try await expectCode(.notFound) { try await store.deleteChip("c1", event: nil) }
        try await store.createChip(Fixtures.chip("c6", tenant: "t1", name: "support"))
        #expect(try await store.chips(of: "t1").map(\.name).sorted() == ["sales", "support"], "a deleted chip's name is free again")
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

    /// `shutdown()` twice is harmless. (That the storage opens again afterwards is the
    /// ``durability()`` check's.)
    public func shutdownTwice() async throws {
        let subject = try await fresh()
        try await subject.store.createTenant(Fixtures.tenant("t1"))
        await subject.store.shutdown()
        await subject.store.shutdown()
    }

    /// Everything written survives a reopen — records, versions, leases, the event log, the
    /// dedupe window, uniqueness — and so do moved workers, after two shutdowns in a row.
    public func durability() async throws {
        let subject = try await fresh()
        guard let reopen = subject.reopen else {
            Issue.record("the durability check needs a store that can be reopened: a durable store's Subject must give reopen")
            return
        }
        let moves = try await fresh()
        try await movesSurviveReopen(moves, reopen: try #require(moves.reopen))
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
        try await expectCode(.capacityExhausted, "the port lease survived") {
            _ = try await reopened.leasePort(in: try PortRange(3100, 3100), host: "h1") { Fixtures.worker("w2", port: $0) }
        }
        try await expectCode(.conflict, "the chip's name is still taken") {
            try await reopened.createChip(Fixtures.chip("c2", tenant: "t1", name: chip.name))
        }
    }

    /// Runs `body` and expects a ``WhagoError`` with `code`.
    func expectCode(_ code: WhagoError.Code, _ comment: Comment? = nil, sourceLocation: SourceLocation = #_sourceLocation,
                    _ body: () async throws -> Void) async throws {
        do {
            try await body()
            Issue.record("expected a WhagoError with code \(code), nothing was thrown; \(comment?.rawValue ?? "")", sourceLocation: sourceLocation)
        } catch let error as WhagoError {
            #expect(error.code == code, "\(error)", sourceLocation: sourceLocation)
        }
    }
}
