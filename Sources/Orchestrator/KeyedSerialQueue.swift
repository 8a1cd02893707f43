/// Runs operations one at a time per key (a chip, a worker), in the order they were submitted;
/// operations of different keys run concurrently.
actor KeyedSerialQueue<Key: Hashable & Sendable> {
    private var tails: [Key: (id: Int, task: Task<Void, Never>)] = [:]
    /// How many operations were submitted so far (each takes its place in line as it is counted).
    private(set) var submitted = 0

    /// Runs `body` after every operation submitted earlier for `key` has finished.
    func run<T: Sendable>(_ key: Key, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
        submitted += 1
        let id = submitted
        let previous = tails[key]?.task
        let task = Task<Result<T, any Error>, Never> {
            await previous?.value
            do { return .success(try await body()) } catch { return .failure(error) }
        }
        let tail = Task<Void, Never> { _ = await task.value }
        tails[key] = (id, tail)
        let result = await task.value
        if tails[key]?.id == id { tails[key] = nil }
        return try result.get()
    }
}
