import Synchronization

/// The orchestrator's own background steps (provisioning a new chip): tracked, so graceful
/// shutdown stops taking new ones and gives the running ones a moment to finish; what is cut
/// short is left in the store's intent for the reconciler of the next start.
final class BackgroundWork: Sendable {
    private struct State {
        var accepting = true
        var tasks: [Int: Task<Void, Never>] = [:]
        var next = 0
    }

    private let state = Mutex(State())

    /// Whether new work is taken.
    var accepting: Bool { state.withLock { $0.accepting } }

    /// Runs `body` in the background unless shutdown began.
    func spawn(_ body: @escaping @Sendable () async -> Void) {
        state.withLock { state in
            guard state.accepting else { return }
            state.next += 1
            let id = state.next
            state.tasks[id] = Task {
                await body()
                self.finished(id)
            }
        }
    }

    private func finished(_ id: Int) {
        _ = state.withLock { $0.tasks.removeValue(forKey: id) }
    }

    /// How many steps run now.
    var running: Int { state.withLock { $0.tasks.count } }

    /// Stops taking work, waits up to `grace` for what runs, then cancels the rest.
    func drain(grace: Duration) async {
        let tasks = state.withLock { state in
            state.accepting = false
            return Array(state.tasks.values)
        }
        let deadline = ContinuousClock.now + grace
        while running > 0, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        for task in tasks { task.cancel() }
        for task in tasks { await task.value }
    }
}
