public import Foundation

/// Times in the Docker Engine API's answers.
package enum DockerTime {
    /// Docker's RFC 3339 time with up to nine fractional digits; `nil` for its zero time
    /// (`0001-01-01T00:00:00Z`, "never started").
    package static func parse(_ text: String?) -> Date? {
        guard let text, !text.hasPrefix("0001-") else { return nil }
        // ISO8601DateFormatter accepts at most milliseconds: cut the fraction to three digits.
        var trimmed = text
        if let dot = text.firstIndex(of: ".") {
            let fraction = text[text.index(after: dot)...].prefix(while: \.isNumber)
            let rest = text[fraction.endIndex...]
            trimmed = String(text[..<dot]) + "." + String(fraction.prefix(3)).padding(toLength: 3, withPad: "0", startingAt: 0) + rest
        }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = formatter.date(from: trimmed) { return date }
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.date(from: text)
    }
}
