public import WhagoCore

/// A store that keeps everything in memory: for unit tests of the core, and as the reference the
/// conformance suite is written against. Not durable, by design.
public actor InMemoryStore: StateBackedStore {
    private var state = StoreState()

    public init() {}

    public func commit(_ build: @Sendable (StoreState) throws(WhagoError) -> StoreMutation?) async throws {
        guard let mutation = try build(state) else { return }
        try state.apply(mutation)
    }

    public func read<T: Sendable>(_ body: @Sendable (StoreState) -> T) async throws -> T {
        body(state)
    }

    public nonisolated func healthCheck() async -> HealthReport { .ok("in memory") }
}
