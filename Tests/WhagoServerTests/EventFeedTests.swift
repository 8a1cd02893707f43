import Foundation
import Testing
import WhagoCore
import WhagoTesting
@testable import WhagoServer

/// A store in memory that counts what the event streams ask of it.
private actor CountingStore: StateBackedStore {
    private var state = StoreState()
    private(set) var endReads = 0
    private(set) var eventReads = 0

    func commit(_ build: @Sendable (StoreState) throws(WhagoError) -> StoreMutation?) async throws {
        guard let mutation = try build(state) else { return }
        try state.apply(mutation)
    }

    func read<T: Sendable>(_ body: @Sendable (StoreState) -> T) async throws -> T { body(state) }

    /// The test's two tenants' newest event (their log is the whole log).
    func latestEventSequence() async throws -> Int64 {
        endReads += 1
        return ["t1", "t2"].compactMap { state.events(of: $0, after: 0, limit: .max).last?.sequence }.max() ?? 0
    }

    func events(of tenant: TenantID, after sequence: Int64, limit: Int) async throws -> [OutboxEntry] {
        eventReads += 1
        return state.events(of: tenant, after: sequence, limit: limit)
    }

    nonisolated func healthCheck() async -> HealthReport { .ok("counting") }
}

@Suite("Event streams", .timeLimit(.minutes(1)))
struct EventFeedTests {
    /// Waits (polling; the suite's time limit is the deadline) until `condition` holds.
    private func until(_ condition: () async -> Bool) async throws {
        while !(await condition()) { try await Task.sleep(for: .milliseconds(5)) }
    }

    private func tenants() async throws -> CountingStore {
        let store = CountingStore()
        try await store.createTenant(Tenant(id: "t1", name: "one"))
        try await store.createTenant(Tenant(id: "t2", name: "two"))
        return store
    }

    @Test("where the log ends is read once per interval, however many streams ask at once")
    func sharedEnd() async throws {
        let store = try await tenants()
        let feed = EventFeed(store: store, cursors: EventCursors(key: Secret("test")), pollInterval: .seconds(60))
        let ends = try await withThrowingTaskGroup(of: Int64.self) { group in
            for _ in 0..<16 { group.addTask { try await feed.watch.latestSequence() } }
            return try await group.reduce(into: [Int64]()) { $0.append($1) }
        }
        #expect(ends == [Int64](repeating: 0, count: 16))
        #expect(await store.endReads == 1)
    }

    @Test("an idle stream never reads its tenant's events; a new event is read once per tenant for all its streams, and sent by its tenant's")
    func idleStreams() async throws {
        let store = try await tenants()
        let feed = EventFeed(store: store, cursors: EventCursors(key: Secret("test")), pollInterval: .milliseconds(20))
        let streams = (0..<16).map { index in EventFeed.Stream(feed: feed, tenant: index < 8 ? "t1" : "t2", cursor: 0, slot: nil) }
        let frames = try await withThrowingTaskGroup(of: String?.self) { group in
            for stream in streams {
                group.addTask {
                    var iterator = stream.makeAsyncIterator()
                    _ = try await iterator.next()  // the opening block
                    // t1's streams return with the event; t2's have none until cancelled.
                    return try await iterator.next().map { String(decoding: $0, as: UTF8.self) }
                }
            }
            try await until { await store.endReads >= 10 }
            #expect(await store.eventReads == 0, "idle streams read nothing of their tenant's")
            let event = ChipEvent(id: "e1", chip: "c1", kind: .statusChanged, status: .working)
            try await store.enqueue([OutboxEntry(event: event, tenant: "t1")])
            var sent: [String] = []
            for _ in 0..<8 { if let frame = try await group.next() { sent.append(frame ?? "(ended)") } }
            // t2's streams read too (the log grew; the event was not theirs), then idle again: one
            // read per tenant, shared by its eight streams.
            try await until { await store.eventReads >= 2 }
            let settled = await store.endReads
            try await until { await store.endReads >= settled + 10 }
            #expect(await store.eventReads == 2, "one read of a tenant's events for all its streams, per new event")
            group.cancelAll()
            while let frame = try await group.next() { #expect(frame == nil, "t2's stream sent \(frame ?? "")") }
            return sent
        }
        #expect(frames.count == 8)
        let first = EventCursors(key: Secret("test")).token(1)
        #expect(frames.allSatisfy { $0.hasPrefix("id: \(first)\nevent: chip.status\ndata: ") }, "\(frames)")
    }
}
