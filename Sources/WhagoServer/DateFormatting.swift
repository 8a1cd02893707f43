import Foundation
import OpenAPIRuntime

/// RFC 3339 UTC timestamps with milliseconds (`2026-11-29T19:11:15.607Z`), written without ICU:
/// Foundation's ISO 8601 formatter was the largest single cost of `GET /api/v1/chips`.
struct RFC3339Transcoder: DateTranscoder {
    func encode(_ date: Date) throws -> String { Self.string(date) }

    func decode(_ string: String) throws -> Date {
        if let date = try? Date(string, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true)) { return date }
        if let date = try? Date(string, strategy: .iso8601) { return date }
        throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "expected an RFC 3339 date-time, e.g. 2026-11-29T19:11:15.607Z"))
    }

    /// The JSON of what whago writes outside the generated routes (SSE frames, tenant webhooks):
    /// sorted keys, dates as the generated routes write them.
    static let jsonEncoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(string(date))
        }
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    static func string(_ date: Date) -> String {
        let milliseconds = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
        var seconds = time_t(milliseconds.quotientRounded(by: 1000))
        let fraction = Int32(milliseconds - Int64(seconds) * 1000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        // `YYYY-MM-DDTHH:MM:SS.mmmZ`, digits written in place.
        var bytes: [UInt8] = Array("0000-00-00T00:00:00.000Z".utf8)
        func put(_ value: Int32, at offset: Int, width: Int) {
            var value = max(0, value)
            for index in stride(from: offset + width - 1, through: offset, by: -1) {
                bytes[index] = UInt8(truncatingIfNeeded: 0x30 + value % 10)
                value /= 10
            }
        }
        put(parts.tm_year + 1900, at: 0, width: 4)
        put(parts.tm_mon + 1, at: 5, width: 2)
        put(parts.tm_mday, at: 8, width: 2)
        put(parts.tm_hour, at: 11, width: 2)
        put(parts.tm_min, at: 14, width: 2)
        put(parts.tm_sec, at: 17, width: 2)
        put(fraction, at: 20, width: 3)
        return String(decoding: bytes, as: UTF8.self)
    }
}

extension Int64 {
    /// Division rounding toward minus infinity (dates before 1970 stay correct).
    fileprivate func quotientRounded(by divisor: Int64) -> Int64 {
        let (quotient, remainder) = quotientAndRemainder(dividingBy: divisor)
        return remainder < 0 ? quotient - 1 : quotient
    }
}
