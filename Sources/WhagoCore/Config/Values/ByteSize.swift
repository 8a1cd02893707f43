/// An amount of memory or data: `512MiB`, `1GiB`, `10MB`, `64KiB`, or a bare number of bytes.
///
/// Binary units (`KiB`, `MiB`, `GiB`, `TiB`) are powers of 1024; decimal ones (`kB`/`KB`, `MB`,
/// `GB`, `TB`) powers of 1000, as Docker's and Kubernetes' documentation use them.
public struct ByteSize: Sendable, Hashable, Comparable, CustomStringConvertible, LosslessStringConvertible, Decodable {
    /// The number of bytes.
    public let bytes: Int64

    public init(bytes: Int64) { self.bytes = bytes }

    public static func mebibytes(_ value: Int64) -> ByteSize { ByteSize(bytes: value << 20) }
    public static func gibibytes(_ value: Int64) -> ByteSize { ByteSize(bytes: value << 30) }

    private static let units: [String: Int64] = [
        "B": 1, "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30, "TiB": 1 << 40,
        "kB": 1_000, "KB": 1_000, "MB": 1_000_000, "GB": 1_000_000_000, "TB": 1_000_000_000_000,
    ]

    public init?(_ text: String) {
        try? self.init(parsing: text)
    }

    public init(parsing text: String) throws(ConfigValueError) {
        let expected = "expected a size such as 512MiB, 1GiB or 10MB"
        let trimmed = text.trimmingSpaces()
        let digits = trimmed.prefix(while: { $0.isASCII && $0.isNumber })
        let unit = trimmed.dropFirst(digits.count).trimmingPrefix(" ")
        guard !digits.isEmpty, digits.count <= 18, let number = Int64(digits) else {
            throw ConfigValueError("invalid size '\(text)'; \(expected)")
        }
        guard let multiplier = unit.isEmpty ? 1 : Self.units[String(unit)] else {
            throw ConfigValueError("invalid size '\(text)': unknown unit '\(unit)' (expected one of: B, KiB, MiB, GiB, TiB, kB, MB, GB, TB)")
        }
        let (value, overflow) = number.multipliedReportingOverflow(by: multiplier)
        guard !overflow else { throw ConfigValueError("size '\(text)' is too large") }
        self.bytes = value
    }

    public init(from decoder: any Decoder) throws {
        try self.init(parsing: try decoder.singleValueContainer().decode(String.self))
    }

    public var description: String {
        for (unit, size) in [("TiB", Int64(1) << 40), ("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)]
        where bytes >= size && bytes % size == 0 {
            return "\(bytes / size)\(unit)"
        }
        return "\(bytes)B"
    }

    public static func < (lhs: ByteSize, rhs: ByteSize) -> Bool { lhs.bytes < rhs.bytes }
}
