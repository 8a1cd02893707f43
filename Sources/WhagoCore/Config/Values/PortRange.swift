/// An inclusive range of TCP ports written `3100-3199` (or a single port, `3100`).
public struct PortRange: Sendable, Hashable, CustomStringConvertible, LosslessStringConvertible, Codable, Sequence {
    /// The first port of the range.
    public let lowerBound: Int
    /// The last port of the range (inclusive).
    public let upperBound: Int

    public init(_ lowerBound: Int, _ upperBound: Int) throws(ConfigValueError) {
        guard (1...65535).contains(lowerBound), (1...65535).contains(upperBound) else {
            throw ConfigValueError("port range \(lowerBound)-\(upperBound) is outside 1-65535")
        }
        guard lowerBound <= upperBound else {
            throw ConfigValueError("port range \(lowerBound)-\(upperBound) is empty: the first port is above the last")
        }
        self.lowerBound = lowerBound
        self.upperBound = upperBound
    }

    public init?(_ text: String) {
        try? self.init(parsing: text)
    }

    public init(parsing text: String) throws(ConfigValueError) {
        let parts = text.trimmingSpaces().split(separator: "-", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count),
              let low = Self.port(parts[0]),
              let high = parts.count == 2 ? Self.port(parts[1]) : low
        else {
            throw ConfigValueError("invalid port range '\(text)'; expected FIRST-LAST such as 3100-3199")
        }
        try self.init(low, high)
    }

    private static func port(_ text: Substring) -> Int? {
        let trimmed = text.trimmingPrefix(" ")
        guard !trimmed.isEmpty, trimmed.count <= 5, trimmed.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        return Int(trimmed)
    }

    public init(from decoder: any Decoder) throws {
        try self.init(parsing: try decoder.singleValueContainer().decode(String.self))
    }

    /// As text (`3100-3199`), the form it is read from.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }

    /// How many ports the range holds.
    public var count: Int { upperBound - lowerBound + 1 }

    public func contains(_ port: Int) -> Bool { (lowerBound...upperBound).contains(port) }

    public func makeIterator() -> ClosedRange<Int>.Iterator { (lowerBound...upperBound).makeIterator() }

    public var description: String { lowerBound == upperBound ? "\(lowerBound)" : "\(lowerBound)-\(upperBound)" }
}
