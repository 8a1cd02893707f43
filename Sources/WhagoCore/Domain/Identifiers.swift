public import Foundation

/// A typed identifier: a string that cannot be mixed up with another kind of identifier.
public protocol WhagoIdentifier: RawRepresentable, Sendable, Hashable, Codable, Comparable,
    CustomStringConvertible, ExpressibleByStringLiteral where RawValue == String {
    init(rawValue: String)
}

extension WhagoIdentifier {
    public init(_ rawValue: String) { self.init(rawValue: rawValue) }
    public init(stringLiteral value: String) { self.init(rawValue: value) }
    public var description: String { rawValue }
    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }

    public init(from decoder: any Decoder) throws {
        self.init(rawValue: try decoder.singleValueContainer().decode(String.self))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}

/// Identifies a tenant: a customer of the SaaS.
public struct TenantID: WhagoIdentifier {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
}

/// Identifies a chip: one WhatsApp number, which is one WAHA session.
public struct ChipID: WhagoIdentifier {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
}

/// Identifies a worker: one container or process running WAHA.
public struct WorkerID: WhagoIdentifier {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
}

/// Identifies an event in the outbox.
public struct EventID: WhagoIdentifier {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
}

/// Identifies a whago installation; every container it launches carries it as `whago.instance`.
public struct InstanceID: WhagoIdentifier {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
}

/// Identifies an outgoing message a tenant asked a chip to send.
public struct MessageID: WhagoIdentifier {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
}

extension WhagoIdentifier {
    /// A new identifier that sorts by creation time: `<prefix>_<ULID>` (keyset pagination walks
    /// records in the order they were made).
    public static func make(prefix: String, at date: Date = Date()) -> Self {
        Self(rawValue: "\(prefix)_\(ULID.make(at: date))")
    }

    /// A new random identifier, `<prefix>_` followed by 20 lowercase base-32 characters.
    public static func random(prefix: String) -> Self {
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz234567")
        let body = String((0..<20).map { _ in alphabet[Int(generator.next(upperBound: UInt32(alphabet.count)))] })
        return Self(rawValue: "\(prefix)_\(body)")
    }
}
