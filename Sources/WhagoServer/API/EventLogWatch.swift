import WhagoCore

/// Where the store's event log ends, read for every event stream of this process at once: at most
/// one `latestEventSequence()` per interval however many streams follow the log, so an idle stream
/// costs the store nothing, and a stream reads its tenant's events only when the log has grown.
actor EventLogWatch {
    private let store: any Store
    private let interval: Duration
    private var latest: (sequence: Int64, readAt: ContinuousClock.Instant)?
    private var reading: Task<Int64, any Error>?

    init(store: any Store, interval: Duration) {
        self.store = store
        self.interval = interval
    }

    /// The log's last sequence, at most `interval` old; callers arriving during a read share it.
    func latestSequence() async throws -> Int64 {
        if let latest, ContinuousClock.now - latest.readAt < interval { return latest.sequence }
        if let reading { return try await reading.value }
        let store = self.store
        let read = Task { try await store.latestEventSequence() }
        reading = read
        defer { reading = nil }
        let sequence = try await read.value
        latest = (sequence, .now)
        return sequence
    }
}
