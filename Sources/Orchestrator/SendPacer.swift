public import Foundation
import Synchronization
import WhagoCore

/// Anti-ban pacing of each chip's messages (`limits.sending`): a least gap with random jitter
/// between two messages, and a cap per 24 hours that ramps up over the days after pairing.
///
/// The gap is kept in memory (a restart forgets at most one gap); the daily count is the store's
/// (`Store.messageCount(of:since:)`), so it holds across restarts and replicas. Used by
/// ``ChipService/sendText(_:from:of:idempotencyKey:)`` once a message is known to go out.
final class SendPacer: Sendable {
    let limits: SendingLimits
    let store: any Store
    /// The earliest time each chip may send again.
    private let nextAllowed = Mutex<[ChipID: Date]>([:])

    init(limits: SendingLimits, store: any Store) {
        self.limits = limits
        self.store = store
    }

    /// Books a send for `chip` now, or throws `pacing` saying how long to wait (`retryAfter`).
    func reserve(_ chip: Chip, now: Date = Date()) async throws {
        let cap = limits.cap(pairedAt: chip.pairedAt, now: now)
        let sent = try await store.messageCount(of: chip.id, since: now.addingTimeInterval(-86_400))
        if sent >= cap {
            let warming = cap < limits.dailyCap
            throw PacingError(
                message: "chip \(chip.id) sent \(sent) messages in the last 24 hours, its cap"
                    + (warming ? " while warming up after pairing (the cap grows day by day up to \(limits.dailyCap))" : ""),
                retryAfter: 3_600)
        }
        let gap = limits.minGap.duration.seconds + Double.random(in: 0...max(limits.jitter.duration.seconds, 0))
        let wait: TimeInterval? = nextAllowed.withLock { table in
            if let next = table[chip.id], next > now { return next.timeIntervalSince(now) }
            table[chip.id] = now.addingTimeInterval(gap)
            if table.count > 100_000 { table = table.filter { $0.value > now } }
            return nil
        }
        if let wait {
            throw PacingError(message: "chip \(chip.id) sends at most one message every \(limits.minGap) (plus up to \(limits.jitter) of jitter)",
                              retryAfter: wait)
        }
    }

    /// Gives back a booking whose message was refused before it left (wrong state, bad input).
    func release(_ chip: ChipID) {
        nextAllowed.withLock { _ = $0.removeValue(forKey: chip) }
    }
}

/// A chip must wait before its next message (the API answers 429 `pacing` with `Retry-After`).
public struct PacingError: Error, Sendable, CustomStringConvertible {
    public var message: String
    /// Seconds until the chip may send again.
    public var retryAfter: TimeInterval

    public var description: String { message }
}
