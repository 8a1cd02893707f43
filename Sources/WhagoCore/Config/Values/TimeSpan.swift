/// A duration written the way deployers write them: `250ms`, `30s`, `5m`, `1h30m`, `2d`.
///
/// A bare number is refused: `30` could mean seconds or milliseconds, so the unit is required.
public struct TimeSpan: Sendable, Hashable, Comparable, CustomStringConvertible, LosslessStringConvertible, Decodable {
    /// The span as a Swift `Duration`.
    public let duration: Duration

    public init(_ duration: Duration) { self.duration = duration }

    public static func seconds(_ value: Int64) -> TimeSpan { TimeSpan(.seconds(value)) }
    public static func milliseconds(_ value: Int64) -> TimeSpan { TimeSpan(.milliseconds(value)) }

    private static let units: [(suffix: String, milliseconds: Int64)] = [
        ("ms", 1), ("s", 1_000), ("m", 60_000), ("h", 3_600_000), ("d", 86_400_000),
    ]

    /// Parses `<number><unit>` groups; units are `ms`, `s`, `m`, `h`, `d`.
    public init?(_ text: String) {
        try? self.init(parsing: text)
    }

    /// Parses like ``init(_:)`` but says what is wrong.
    public init(parsing text: String) throws(ConfigValueError) {
        let expected = "expected a duration such as 500ms, 30s, 5m or 1h30m"
        var rest = Substring(text.trimmingSpaces())
        guard !rest.isEmpty else { throw ConfigValueError("empty duration; \(expected)") }
        var total: Int64 = 0
        while !rest.isEmpty {
            let digits = rest.prefix(while: { $0.isASCII && $0.isNumber })
            guard !digits.isEmpty, digits.count <= 12, let number = Int64(digits) else {
                throw ConfigValueError("invalid duration '\(text)'; \(expected)")
            }
            rest = rest.dropFirst(digits.count)
            let letters = rest.prefix(while: { $0.isLetter })
            guard let unit = Self.units.first(where: { $0.suffix == letters }) else {
                let why = letters.isEmpty ? "a unit is required" : "unknown unit '\(letters)'"
                throw ConfigValueError("invalid duration '\(text)': \(why); \(expected)")
            }
            rest = rest.dropFirst(letters.count)
            let (product, overflow) = number.multipliedReportingOverflow(by: unit.milliseconds)
            guard !overflow, total <= Int64.max - product else {
                throw ConfigValueError("duration '\(text)' is too long")
            }
            total += product
        }
        self.duration = .milliseconds(total)
    }

    public init(from decoder: any Decoder) throws {
        try self.init(parsing: try decoder.singleValueContainer().decode(String.self))
    }

    /// Whole milliseconds.
    public var milliseconds: Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 1_000 + attoseconds / 1_000_000_000_000_000
    }

    /// The shortest canonical spelling, e.g. `1h30m`, `250ms`.
    public var description: String {
        var ms = milliseconds
        if ms == 0 { return "0s" }
        var text = ""
        for (suffix, size) in Self.units.reversed() where ms >= size {
            if suffix == "ms" || ms % size == 0 || size >= 60_000 {
                text += "\(ms / size)\(suffix)"
                ms %= size
            }
        }
        return text
    }

    public static func < (lhs: TimeSpan, rhs: TimeSpan) -> Bool { lhs.duration < rhs.duration }
}

extension String {
    /// The string without leading and trailing spaces and tabs (Foundation-free).
    public func trimmingSpaces() -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else {
            return ""
        }
        return String(self[first...last])
    }
}
