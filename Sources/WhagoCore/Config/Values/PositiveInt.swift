/// A whole number of at least 1 (a count, a quota, a rate).
public struct PositiveInt: Sendable, Hashable, Decodable, CustomStringConvertible {
    public let value: Int

    public init(from decoder: any Decoder) throws {
        let value = try decoder.singleValueContainer().decode(Int.self)
        guard value >= 1 else { throw ConfigValueError("expected a whole number of at least 1, got \(value)") }
        self.value = value
    }

    public var description: String { "\(value)" }
}

/// A string that must not be empty (a path, a name, an image).
public struct NonEmptyString: Sendable, Hashable, Decodable, CustomStringConvertible {
    public let value: String

    public init(from decoder: any Decoder) throws {
        let value = try decoder.singleValueContainer().decode(String.self)
        guard !value.isEmpty else { throw ConfigValueError("expected a non-empty string") }
        self.value = value
    }

    public var description: String { value }
}
