public import Testing

/// Checks that `condition` keeps holding for `window` (polled every `interval`), recording an issue
/// at the first time it does not: for a test of something that must *not* happen (a stopped worker
/// restarted late, a pending task placed), which no condition can be awaited for. The window is a
/// bound on how late the unwanted thing could come, not a synchronisation.
public func expectStays(_ what: String, for window: Duration, every interval: Duration = .milliseconds(50),
                        sourceLocation: SourceLocation = #_sourceLocation,
                        _ condition: () async throws -> Bool) async throws {
    let end = ContinuousClock.now + window
    repeat {
        guard try await condition() else {
            Issue.record("no longer true within \(window): \(what)", sourceLocation: sourceLocation)
            return
        }
        try await Task.sleep(for: interval)
    } while ContinuousClock.now < end
}
