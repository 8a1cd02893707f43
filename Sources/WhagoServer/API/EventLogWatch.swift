import Orchestrator
import WhagoCore

/// Where the store's event log ends, read for every event stream of this process at once: at most
/// one `latestEventSequence()` per interval however many streams follow the log, so an idle stream
/// costs the store nothing, and a stream reads its tenant's events only when the log has grown.
actor EventLogWatch {
    private let log: EventService
    private let interval: Duration
    private var latest: (sequence: Int64, readAt: ContinuousClock.Instant)?
    private var reading: Task<Int64, any Error>?

    init(log: EventService, interval: Duration) {
        self.log = log
        self.interval = interval
    }

    /// The log's last sequence, at most `interval` old; callers arriving during a read share it.
    func latestSequence() async throws -> Int64 {
        if let latest, ContinuousClock.now - latest.readAt < interval { return latest.sequence }
        if let reading { return try await reading.value }
        let log = self.log
        let read = Task { try await log.latestSequence() }
        reading = read
        defer { reading = nil }
        let sequence = try await read.value
        latest = (sequence, .now)
        return sequence
    }
}
