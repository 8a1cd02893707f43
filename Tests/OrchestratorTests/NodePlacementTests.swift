import Foundation
import Logging
import NoProxy
import Orchestrator
import Testing
import WhagoCore
import WhagoTesting

/// Placement on several nodes, with a runtime double (no process): each node has its own port
/// pool, workers go to the least-loaded node (spread groups first), and a worker whose node is
/// lost moves to another node with a port leased there.
@Suite("Workers placed on several nodes", .timeLimit(.minutes(2)))
struct NodePlacementTests {
    struct Subject {
        let runtime: SimulatedNodesRuntime
        let store: InMemoryStore
        let orchestrator: Orchestrator

        init(nodes: Int = 0, spread: [[String]] = [], ports: PortRange) {
            runtime = SimulatedNodesRuntime(nodes: nodes, spread: spread, ports: ports)
            store = InMemoryStore()
            var logger = Logger(label: "test.node-placement")
            logger.logLevel = .critical
            orchestrator = Orchestrator(Orchestrator.Configuration(
                runtime: runtime, sessions: InstantSessions(perWorker: 1), proxy: NoProxy(), store: store,
                instance: InstanceID("nodes"), publicURL: URL(string: "http://127.0.0.1:1")!, logger: logger))
        }

        /// One chip of a new tenant (one worker each: one session per worker), provisioned.
        func chip(_ index: Int) async throws -> Chip {
            let tenant = try await orchestrator.tenants.create(TenantService.Settings(name: "tenant \(index)")).tenant.id
            let chip = try await orchestrator.chips.create(ChipService.Request(name: "chip"), for: tenant)
            try await waitFor("chip \(chip.id) SCAN_QR_CODE") { try await store.chip(chip.id)?.status == .scanQRCode }
            return try #require(try await store.chip(chip.id))
        }

        func worker(of chip: Chip) async throws -> Worker {
            let id = try #require(try await store.chip(chip.id)?.worker)
            return try #require(try await store.worker(id))
        }
    }

    @Test("each node has its own port pool; workers go to the least-loaded node, launched there and reached at its address")
    func perNodePools() async throws {
        let subject = Subject(nodes: 3, ports: try PortRange(3100, 3101))
        var workers: [Worker] = []
        for index in 0..<6 { workers.append(try await subject.worker(of: try await subject.chip(index))) }
        #expect(Dictionary(grouping: workers, by: \.host).mapValues(\.count) == ["node-0": 2, "node-1": 2, "node-2": 2])
        #expect(Set(workers.map { "\($0.host):\($0.port)" }).count == 6, "never one port twice on a node")
        #expect(Set(workers.map(\.port)) == [3100, 3101], "the same ports on every node")
        #expect(try await subject.store.portLeaseCounts() == ["node-0": 2, "node-1": 2, "node-2": 2])
        for worker in workers {
            #expect(worker.address == "\(worker.host).test.invalid")
            let launch = try #require(subject.runtime.running[worker.name])
            #expect(launch.node?.id == worker.host && launch.node?.address == worker.address && launch.hostPort == worker.port,
                    "launched on the node and port of its lease")
            #expect(launch.handle.labels[WorkerLabel.node] == worker.host)
        }

        // Every port of every node leased: the seventh worker is refused, naming the range.
        let tenant = try await subject.orchestrator.tenants.create(TenantService.Settings(name: "seventh")).tenant.id
        let refused = await #expect(throws: WhagoError.self) {
            try await subject.orchestrator.chips.create(ChipService.Request(name: "chip"), for: tenant)
        }
        #expect(refused?.code == .capacityExhausted)
        #expect(refused?.message.contains("3100-3101") == true && refused?.message.contains("3 nodes") == true, "\(String(describing: refused))")
    }

    @Test("spread: the least-loaded group first (two nodes in zone a, one in zone b), then the least-loaded node")
    func spread() async throws {
        let subject = Subject(spread: [["a"], ["a"], ["b"]], ports: try PortRange(3100, 3109))
        var hosts: [String] = []
        for index in 0..<8 { hosts.append(try await subject.worker(of: try await subject.chip(index)).host) }
        let counts = Dictionary(grouping: hosts, by: { $0 }).mapValues(\.count)
        #expect(counts == ["node-0": 2, "node-1": 2, "node-2": 4], "zone b holds half the workers: \(counts)")
    }

    @Test("no node takes workers: capacity_exhausted that says why")
    func noNodes() async throws {
        let subject = Subject(nodes: 1, ports: try PortRange(3100, 3101))
        subject.runtime.lose("node-0")
        let tenant = try await subject.orchestrator.tenants.create(TenantService.Settings(name: "nowhere")).tenant.id
        let refused = await #expect(throws: WhagoError.self) {
            try await subject.orchestrator.chips.create(ChipService.Request(name: "chip"), for: tenant)
        }
        #expect(refused?.code == .capacityExhausted)
        #expect(refused?.message.contains("no node takes new workers") == true, "\(String(describing: refused))")
    }

    @Test("a lost node's worker moves to the least-loaded other node with a port leased there; the old one is removed")
    func lostNode() async throws {
        let subject = Subject(nodes: 3, ports: try PortRange(3100, 3101))
        var chips: [Chip] = []
        for index in 0..<4 { chips.append(try await subject.chip(index)) }
        // One node holds 3100 and 3101, the two others 3100 each (equally loaded nodes are taken
        // in random order): one of those two is lost; the other is the least loaded, its 3100 taken.
        let counts = try await subject.store.portLeaseCounts()
        let single = counts.filter { $0.value == 1 }.keys.sorted()
        try #require(single.count == 2 && counts.values.sorted() == [1, 1, 2], "\(counts)")
        let (lostNode, target) = (single[0], single[1])
        let lost = try #require(try await subject.store.workers().first { $0.host == lostNode })
        subject.runtime.lose(lostNode)
        #expect(await subject.orchestrator.leadership.attempt())
        let fence = try #require(await subject.orchestrator.leadership.fence())
        let launchesBefore = subject.runtime.counts.launches
        await subject.orchestrator.healthMonitor.checkAll(fence: fence)

        let moved = try #require(try await subject.store.worker(lost.id))
        #expect(moved.host == target && moved.port == 3101, "\(target) had one worker, on 3100: \(moved.host):\(moved.port)")
        #expect(moved.address == "\(target).test.invalid")
        #expect(moved.restarts == lost.restarts + 1)
        let launch = try #require(subject.runtime.running[lost.name])
        #expect(launch.node?.id == target && launch.hostPort == 3101 && launch.handle.labels[WorkerLabel.node] == target)
        #expect(subject.runtime.counts.launches == launchesBefore + 1 && subject.runtime.counts.removals == 1)
        #expect(subject.orchestrator.counters[.workersMoved] == 1)
        #expect(try await subject.store.portLeaseCounts().filter { $0.key == lostNode }.isEmpty)
        #expect(try await subject.store.portLeaseCounts()[target] == 2)
        let chip = try #require(chips.first { $0.worker == lost.id })
        #expect(try await subject.store.chip(chip.id)?.worker == lost.id, "its chips stay on it")

        // A second pass finds nothing to do.
        await subject.orchestrator.healthMonitor.checkAll(fence: fence)
        #expect(subject.runtime.counts.launches == launchesBefore + 1)
        #expect(try await subject.store.worker(lost.id)?.host == target)
    }
}

/// Polls `condition` every 20 ms until it holds (30 s at most).
private func waitFor(_ what: String, _ condition: () async throws -> Bool) async throws {
    let deadline = ContinuousClock.now + .seconds(30)
    while try await !condition() {
        guard ContinuousClock.now < deadline else {
            Issue.record("timed out waiting for \(what)")
            throw WhagoError(.timedOut, "timed out waiting for \(what)")
        }
        try await Task.sleep(for: .milliseconds(20))
    }
}
