import Foundation
@testable import Orchestrator
import Testing
import WhagoCore
import WhagoTesting

/// `limits.sending` as the pacer applies it, on driven time (every decision is asked at a `now` the
/// test gives): the gap and its jitter, the daily cap from the store's message records, the warm-up
/// ramp after pairing, and bookings given back.
@Suite("Send pacing", .timeLimit(.minutes(3)))
struct SendPacerTests {
    static let start = Date(timeIntervalSince1970: 1_900_000_000)

    /// A store holding tenant t1 and a WORKING chip paired at `pairedAt`, with messages recorded at
    /// `sentAt`; the pacer over it.
    static func pacer(_ limits: SendingLimits, pairedAt: Date? = nil, sentAt: [Date] = []) async throws -> (SendPacer, Chip) {
        let store = InMemoryStore()
        var chip = Chip(id: "chip_1", tenant: "t1", name: "one", status: .working)
        chip.pairedAt = pairedAt
        var operations: [StoreOperation] = [.createTenant(Tenant(id: "t1", name: "t1")), .createChip(chip)]
        for (index, date) in sentAt.enumerated() {
            operations.append(.recordMessage(OutgoingMessage(id: MessageID(rawValue: "msg_\(index)"), chip: chip.id, tenant: "t1",
                                                             chatID: "5511999990000@c.us", text: "hi", status: .sent, createdAt: date)))
        }
        try await store.apply(StoreBatch(operations))
        return (SendPacer(limits: limits, store: store), chip)
    }

    /// The refusal of a reservation at `now`, or nil when it was booked.
    static func refusal(_ pacer: SendPacer, _ chip: Chip, at now: Date) async throws -> PacingError? {
        do {
            try await pacer.reserve(chip, now: now)
            return nil
        } catch let error as PacingError {
            return error
        }
    }

    @Test("a gap between two messages of a chip, plus up to the jitter; a booking given back frees the chip at once")
    func gapAndRelease() async throws {
        let (pacer, chip) = try await Self.pacer(SendingLimits(minGap: .seconds(10), jitter: .seconds(5), dailyCap: 1000, warmup: []))
        #expect(try await Self.refusal(pacer, chip, at: Self.start) == nil, "the first message goes")
        let early = try #require(try await Self.refusal(pacer, chip, at: Self.start.addingTimeInterval(9.9)), "within the gap: refused")
        #expect(early.retryAfter > 0 && early.retryAfter <= 5.1, "the wait is what is left of the gap and its jitter: \(early.retryAfter)")
        #expect(early.message.contains("at most one message every 10s"))
        #expect(try await Self.refusal(pacer, chip, at: Self.start.addingTimeInterval(15.01)) == nil, "past the gap and the largest jitter")

        // A booking whose message never left is given back: the next send goes at once.
        pacer.release(chip.id)
        #expect(try await Self.refusal(pacer, chip, at: Self.start.addingTimeInterval(15.02)) == nil)
        #expect(try await Self.refusal(pacer, chip, at: Self.start.addingTimeInterval(15.03)) != nil, "and is booked again")
    }

    @Test("the daily cap counts the store's messages of the last 24 hours; a refusal says to wait an hour")
    func dailyCap() async throws {
        let now = Self.start
        let recent = [now.addingTimeInterval(-60), now.addingTimeInterval(-3_600), now.addingTimeInterval(-86_000)]
        let limits = SendingLimits(minGap: .seconds(0), jitter: .seconds(0), dailyCap: 3, warmup: [])
        let (capped, chip) = try await Self.pacer(limits, sentAt: recent)
        let refused = try #require(try await Self.refusal(capped, chip, at: now), "3 messages in 24 hours: the cap")
        #expect(refused.retryAfter == 3_600)
        #expect(refused.message.contains("sent 3 messages in the last 24 hours, its cap"))
        #expect(!refused.message.contains("warming up"))
        // One of them older than 24 hours no longer counts.
        let (rolling, _) = try await Self.pacer(limits, sentAt: [recent[0], recent[1], now.addingTimeInterval(-86_401)])
        #expect(try await Self.refusal(rolling, chip, at: now) == nil)
    }

    @Test("warm-up: the cap of day 1, 2, … after pairing, then the daily cap; a chip paired at an unknown time counts as warmed up")
    func warmupDays() async throws {
        let now = Self.start
        let limits = SendingLimits(minGap: .seconds(0), jitter: .seconds(0), dailyCap: 5, warmup: [1, 2])
        let two = [now.addingTimeInterval(-120), now.addingTimeInterval(-60)]
        // Day 1 (paired an hour ago): one message a day.
        let (dayOne, chip) = try await Self.pacer(limits, pairedAt: now.addingTimeInterval(-3_600), sentAt: [two[1]])
        let refused = try #require(try await Self.refusal(dayOne, chip, at: now))
        #expect(refused.message.contains("while warming up after pairing"), "\(refused.message)")
        #expect(refused.message.contains("up to 5"))
        // Day 2: two.
        let (dayTwo, pairedYesterday) = try await Self.pacer(limits, pairedAt: now.addingTimeInterval(-86_400 - 60), sentAt: [two[1]])
        #expect(try await Self.refusal(dayTwo, pairedYesterday, at: now) == nil)
        let (dayTwoFull, _) = try await Self.pacer(limits, pairedAt: now.addingTimeInterval(-86_400 - 60), sentAt: two)
        #expect(try await Self.refusal(dayTwoFull, pairedYesterday, at: now) != nil)
        // Day 3: past the ramp, the daily cap.
        let (dayThree, pairedLongAgo) = try await Self.pacer(limits, pairedAt: now.addingTimeInterval(-2 * 86_400 - 60), sentAt: two)
        #expect(try await Self.refusal(dayThree, pairedLongAgo, at: now) == nil)
        let (unknown, neverSaid) = try await Self.pacer(limits, pairedAt: nil, sentAt: two)
        #expect(try await Self.refusal(unknown, neverSaid, at: now) == nil)
    }
}
