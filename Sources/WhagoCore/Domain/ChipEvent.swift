public import Foundation

/// Something that happened to a chip, delivered to its tenant's webhook through the outbox.
public struct ChipEvent: Sendable, Hashable, Codable, Identifiable {
    /// What happened; the raw values are the event names tenants see.
    public struct Kind: RawRepresentable, Sendable, Hashable, Codable, ExpressibleByStringLiteral, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public init(stringLiteral value: String) { self.rawValue = value }
        public var description: String { rawValue }

        /// The chip's status changed (WAHA's `session.status`, or a whago status).
        public static let statusChanged: Self = "chip.status"
        /// A message arrived or was sent (WAHA's `message`).
        public static let message: Self = "message"
        /// A sent message was delivered or read (WAHA's `message.ack`).
        public static let messageAck: Self = "message.ack"
        /// The chip was deleted.
        public static let deleted: Self = "chip.deleted"
    }

    public var id: EventID
    public var chip: ChipID
    public var kind: Kind
    /// The new status, for ``Kind/statusChanged``.
    public var status: ChipStatus?
    /// The event's own data, as the tenant receives it.
    public var payload: JSONValue
    public var occurredAt: Date
    /// For ``Kind/message`` and ``Kind/messageAck``: the id the session software (WAHA) gives the
    /// message, whatever shape its payload has it in; whago finds its own record of a sent
    /// message by it.
    public var providerMessageID: String?

    public init(id: EventID, chip: ChipID, kind: Kind, status: ChipStatus? = nil, payload: JSONValue = .null, occurredAt: Date = Date(),
                providerMessageID: String? = nil) {
        self.id = id
        self.chip = chip
        self.kind = kind
        self.status = status
        self.payload = payload
        self.occurredAt = occurredAt
        self.providerMessageID = providerMessageID
    }
}

/// Any JSON value, for event payloads whago passes through without interpreting.
public enum JSONValue: Sendable, Hashable, Codable, ExpressibleByStringLiteral {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        // The decoder cannot be asked what the value is, only told what to read: the likeliest
        // kinds first (strings, then objects), since every wrong guess costs a thrown error.
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([String: JSONValue].self) {
            self = .object(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else {
            self = .number(try container.decode(Double.self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .number(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }

    public init(stringLiteral value: String) { self = .string(value) }

    /// The member `key` of an object, or `nil`.
    public subscript(key: String) -> JSONValue? {
        if case .object(let members) = self { members[key] } else { nil }
    }

    /// The value as a string, when it is one.
    public var stringValue: String? {
        if case .string(let value) = self { value } else { nil }
    }

    /// The value as a number, when it is one.
    public var numberValue: Double? {
        if case .number(let value) = self { value } else { nil }
    }

    /// The elements, when the value is an array.
    public var arrayValue: [JSONValue]? {
        if case .array(let value) = self { value } else { nil }
    }
}
