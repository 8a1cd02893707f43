public import Testing

/// Tests that use the private dockerd `scripts/test` starts: they run at any time together, and
/// apart from the ones that restart it (the daemon, and the swarm it manages, are down for a while).
///
/// `@Suite(.usesPrivateDockerd)` on every suite that uses it; `@Test(.restartsPrivateDockerd)` on
/// a test that stops or restarts it.
public struct PrivateDockerdTrait: TestTrait, SuiteTrait, TestScoping {
    let exclusive: Bool

    public var isRecursive: Bool { true }

    public func scopeProvider(for test: Test, testCase: Test.Case?) -> Self? {
        testCase == nil ? nil : self
    }

    public func provideScope(for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void) async throws {
        // Inherited and own traits both scope the test: the outermost decides, for all of them.
        if DockerdGate.held { return try await function() }
        let exclusive = test.traits.contains { ($0 as? PrivateDockerdTrait)?.exclusive == true }
        try await DockerdGate.shared.with(exclusive: exclusive) {
            try await DockerdGate.$held.withValue(true) { try await function() }
        }
    }
}

extension Trait where Self == PrivateDockerdTrait {
    /// The test uses the private dockerd (shared with the other such tests).
    public static var usesPrivateDockerd: Self { PrivateDockerdTrait(exclusive: false) }
    /// The test stops or restarts the private dockerd: it runs alone among the tests that use it.
    public static var restartsPrivateDockerd: Self { PrivateDockerdTrait(exclusive: true) }
}

/// A readers-writer gate, writers first.
actor DockerdGate {
    static let shared = DockerdGate()
    @TaskLocal static var held = false

    private var readers = 0
    private var writing = false
    private var waitingWriters: [CheckedContinuation<Void, Never>] = []
    private var waitingReaders: [CheckedContinuation<Void, Never>] = []

    func with(exclusive: Bool, _ body: @Sendable () async throws -> Void) async throws {
        if exclusive { await lockExclusive() } else { await lockShared() }
        do {
            try await body()
        } catch {
            unlock(exclusive: exclusive)
            throw error
        }
        unlock(exclusive: exclusive)
    }

    private func lockShared() async {
        if !writing && waitingWriters.isEmpty {
            readers += 1
            return
        }
        await withCheckedContinuation { waitingReaders.append($0) }
    }

    private func lockExclusive() async {
        if !writing && readers == 0 {
            writing = true
            return
        }
        await withCheckedContinuation { waitingWriters.append($0) }
    }

    private func unlock(exclusive: Bool) {
        if exclusive { writing = false } else { readers -= 1 }
        guard !writing, readers == 0 else { return }
        if !waitingWriters.isEmpty {
            writing = true
            waitingWriters.removeFirst().resume()
        } else {
            readers += waitingReaders.count
            let ready = waitingReaders
            waitingReaders = []
            for reader in ready { reader.resume() }
        }
    }
}
