/// A value computed at most once per `lifetime`, however many callers ask at once: the first
/// caller computes it, the others wait for that result, and later callers get it until it is
/// older than `lifetime` (`/readyz`: a burst of probes costs one store read and one runtime ping).
actor Recent<Value: Sendable> {
    private let lifetime: Duration
    private var value: (value: Value, at: ContinuousClock.Instant)?
    private var computing: Task<Value, Never>?

    init(lifetime: Duration) {
        self.lifetime = lifetime
    }

    func get(_ compute: @escaping @Sendable () async -> Value) async -> Value {
        if let value, ContinuousClock.now - value.at < lifetime { return value.value }
        if let computing { return await computing.value }
        let task = Task { await compute() }
        computing = task
        let result = await task.value
        value = (result, .now)
        computing = nil
        return result
    }
}
