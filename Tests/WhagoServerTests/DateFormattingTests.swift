import Foundation
import Testing
@testable import WhagoServer
import WhagoTesting

/// The hand-written RFC 3339 writer (the API's dates, SSE frames, tenant webhooks) against
/// Foundation's ISO 8601 parser: what it writes parses back to the same millisecond.
@Suite("RFC 3339 dates", .timeLimit(.minutes(3)))
struct DateFormattingTests {
    /// Milliseconds since 1970, rounded toward minus infinity (what the writer keeps).
    static func milliseconds(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1000).rounded(.down)) }

    /// Foundation's reading of `text`, in milliseconds since 1970.
    static func parsed(_ text: String) throws -> Int64 {
        let date = try Date(text, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true))
        return Int64((date.timeIntervalSince1970 * 1000).rounded())
    }

    @Test("edges: the epoch, half a millisecond before it, leap days, the ends of years, the first Gregorian year and the last four-digit one")
    func edges() throws {
        let cases: [(Double, String)] = [
            (0, "1970-01-01T00:00:00.000Z"),
            (-0.0005, "1969-12-31T23:59:59.999Z"),
            (951_782_400, "2000-02-29T00:00:00.000Z"),
            (1_709_164_799.999, "2024-02-28T23:59:59.999Z"),
            (1_709_164_800.5, "2024-02-29T00:00:00.500Z"),
            (946_684_799.999, "1999-12-31T23:59:59.999Z"),
            (253_402_300_799.9995, "9999-12-31T23:59:59.999Z"),
            (-12_212_553_600, "1583-01-01T00:00:00.000Z"),
            (1_796_123_475.6079, "2026-12-01T11:11:15.607Z"),
        ]
        for (seconds, expected) in cases {
            let date = Date(timeIntervalSince1970: seconds)
            #expect(RFC3339Transcoder.string(date) == expected, "\(seconds)")
            #expect(try Self.parsed(expected) == Self.milliseconds(date), "\(expected)")
            let decoded = try RFC3339Transcoder().decode(RFC3339Transcoder().encode(date))
            #expect(Int64((decoded.timeIntervalSince1970 * 1000).rounded()) == Self.milliseconds(date), "\(expected) read back")
        }
    }

    @Test("fuzzed: 20,000 random instants from 1583 to 9999 parse back, in Foundation, to the millisecond written")
    func fuzzed() throws {
        var random = TestRandom("the RFC 3339 writer's random dates")
        var mismatches: [String] = []
        for _ in 0..<20_000 {
            // Arbitrary fractions of a millisecond, from the first whole Gregorian year (Foundation's
            // calendar is Julian before October 1582; RFC 3339's is Gregorian) to the last of four digits.
            let seconds = Double.random(in: -12_212_553_600 ..< 253_402_300_800, using: &random)
            let date = Date(timeIntervalSince1970: seconds)
            let text = RFC3339Transcoder.string(date)
            guard text.utf8.count == 24, text.wholeMatch(of: /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/) != nil,
                  (try? Self.parsed(text)) == Self.milliseconds(date) else {
                mismatches.append("\(seconds) → \(text)")
                continue
            }
        }
        #expect(mismatches.isEmpty, "\(mismatches.count) dates written wrong, e.g. \(mismatches.prefix(5))")
    }
}
