import Foundation
import Orchestrator
import Testing
import WhagoCore
@testable import WhagoServer

/// A store in memory that counts the reads a scrape makes.
private actor ScrapedStore: StateBackedStore {
    private var state = StoreState()
    private(set) var chipReads = 0

    func commit(_ build: @Sendable (StoreState) throws(WhagoError) -> StoreMutation?) async throws {
        guard let mutation = try build(state) else { return }
        try state.apply(mutation)
    }

    func read<T: Sendable>(_ body: @Sendable (StoreState) -> T) async throws -> T { body(state) }

    func allChips() async throws -> [Chip] {
        chipReads += 1
        return []
    }

    nonisolated func healthCheck() async -> HealthReport { .ok("counting") }
}

@Suite("What a scrape or a probe costs", .timeLimit(.minutes(1)))
struct ScrapeCostTests {
    @Test("/metrics reads the store's gauges at most once per gaugeInterval, however often it is scraped")
    func gaugesCached() async throws {
        let store = ScrapedStore()
        let metrics = ServerMetrics(gaugeInterval: .seconds(3600))
        let counters = OrchestratorCounters()
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<20 { group.addTask { _ = await metrics.render(store: store, counters: counters, healthyWithin: 60) } }
        }
        #expect(await store.chipReads == 1)
        let text = String(decoding: await metrics.render(store: store, counters: counters, healthyWithin: 60), as: UTF8.self)
        #expect(text.contains("whago_chips{"), "the last reading is still shown")
        #expect(await store.chipReads == 1)
        let fresh = ServerMetrics(gaugeInterval: .zero)
        _ = await fresh.render(store: store, counters: counters, healthyWithin: 60)
        _ = await fresh.render(store: store, counters: counters, healthyWithin: 60)
        #expect(await store.chipReads == 3, "read each time when the interval is zero")
    }

    @Test("a value asked for by many at once is computed once, and again once it is older than its lifetime")
    func recent() async {
        let computed = Counter()
        let recent = Recent<Int>(lifetime: .seconds(3600))
        let values = await withTaskGroup(of: Int.self) { group in
            for _ in 0..<20 { group.addTask { await recent.get { await computed.next() } } }
            return await group.reduce(into: [Int]()) { $0.append($1) }
        }
        #expect(values == [Int](repeating: 1, count: 20))
        let stale = Recent<Int>(lifetime: .zero)
        #expect(await stale.get { await computed.next() } == 2)
        #expect(await stale.get { await computed.next() } == 3)
    }

    private actor Counter {
        private var value = 0
        func next() -> Int {
            value += 1
            return value
        }
    }
}
