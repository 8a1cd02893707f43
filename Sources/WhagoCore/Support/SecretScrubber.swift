import Foundation

/// Takes secrets out of what a worker answers before a tenant sees it (the pass-through): WAHA
/// echoes a session's configuration, whose proxy credentials, webhook HMAC key and custom headers
/// are whago's secrets, and a tenant holding the HMAC key could forge its worker's webhooks.
///
/// Two passes. In a JSON answer every member whose name says it holds a secret (``isSecretName(_:)``)
/// has its values replaced by `"***"` (an object's too, its shape kept), as have a `proxy` object's `username` and a `customHeaders`
/// entry's `value`. Then, in any answer, every occurrence of a secret whago knows — as written, as
/// JSON escapes it and percent-encoded — becomes `***`.
public struct SecretScrubber: Sendable {
    /// What replaces a secret.
    public static let mask = "***"

    private let needles: [[UInt8]]

    /// - Parameter secrets: the values to take out wherever they appear (shorter than 4
    ///   characters: ignored, as they would mask ordinary text).
    public init(secrets: [String]) {
        var needles: Set<[UInt8]> = []
        for secret in secrets where secret.count >= 4 {
            needles.insert(Array(secret.utf8))
            needles.insert(Array(Self.jsonEscaped(secret, slashes: false).utf8))
            needles.insert(Array(Self.jsonEscaped(secret, slashes: true).utf8))
            if let encoded = secret.addingPercentEncoding(withAllowedCharacters: Self.unreserved) { needles.insert(Array(encoded.utf8)) }
        }
        // Longest first: a secret that contains another is masked whole.
        self.needles = needles.sorted { $0.count > $1.count }
    }

    /// The answer without secrets. A JSON answer (by its content type) that does not parse is
    /// scrubbed of the known values only.
    public func scrub(_ body: [UInt8], contentType: String?) -> [UInt8] {
        var body = body
        // Re-encoded only when a member was masked (a number past 2^53 would not survive it).
        if Self.isJSON(contentType), let value = try? JSONDecoder().decode(JSONValue.self, from: Data(body)) {
            let redacted = Self.redact(value)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.withoutEscapingSlashes]
            if redacted != value, let encoded = try? encoder.encode(redacted) { body = Array(encoded) }
        }
        for needle in needles { body = Self.replace(needle, in: body) }
        return body
    }

    /// Whether a JSON member of this name holds a secret: `password`, `secret`, `token`, `hmac`,
    /// `apiKey`, `authorization`, `key` and names containing the first four (any case).
    public static func isSecretName(_ name: String) -> Bool {
        let lowered = name.lowercased()
        if ["key", "apikey", "api_key", "x-api-key", "authorization", "passwd", "pwd"].contains(lowered) { return true }
        return ["password", "secret", "token", "hmac"].contains { lowered.contains($0) }
    }

    static func redact(_ value: JSONValue, parent: String? = nil) -> JSONValue {
        switch value {
        case .object(let members):
            var redacted: [String: JSONValue] = [:]
            for (name, member) in members {
                let secret = isSecretName(name) && !(name.lowercased() == "key" && member.isStructured)
                    || (parent == "proxy" && name == "username")
                    || (parent == "customHeaders" && name == "value")
                redacted[name] = secret ? maskAll(member) : redact(member, parent: name)
            }
            return .object(redacted)
        case .array(let items):
            // An array's items belong to the array's member (`customHeaders: [{name, value}]`).
            return .array(items.map { redact($0, parent: parent) })
        default:
            return value
        }
    }

    /// Every value inside masked, the structure kept (`hmac: {key: ***}`); null stays null.
    static func maskAll(_ value: JSONValue) -> JSONValue {
        switch value {
        case .null: .null
        case .object(let members): .object(members.mapValues(maskAll))
        case .array(let items): .array(items.map(maskAll))
        default: .string(mask)
        }
    }

    static func replace(_ needle: [UInt8], in body: [UInt8]) -> [UInt8] {
        guard !needle.isEmpty, body.count >= needle.count else { return body }
        var result: [UInt8] = []
        result.reserveCapacity(body.count)
        var index = 0
        let mask = Array(Self.mask.utf8)
        while index < body.count {
            if body[index] == needle[0], index + needle.count <= body.count, body[index..<index + needle.count].elementsEqual(needle) {
                result.append(contentsOf: mask)
                index += needle.count
            } else {
                result.append(body[index])
                index += 1
            }
        }
        return result
    }

    private static func jsonEscaped(_ text: String, slashes: Bool) -> String {
        let encoder = JSONEncoder()
        if !slashes { encoder.outputFormatting = [.withoutEscapingSlashes] }
        guard let data = try? encoder.encode(text), let quoted = String(data: data, encoding: .utf8) else { return text }
        return String(quoted.dropFirst().dropLast())
    }

    private static func isJSON(_ contentType: String?) -> Bool {
        guard let type = contentType?.split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased() else { return false }
        return type == "application/json" || type.hasSuffix("+json")
    }

    private static let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
}

extension JSONValue {
    /// Whether it is an object or an array.
    var isStructured: Bool {
        switch self {
        case .object, .array: true
        default: false
        }
    }
}
