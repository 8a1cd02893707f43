public import WhagoCore

/// What of a worker's event payload is kept in the event log (and sent to the tenant): a worker is
/// untrusted, and what it says is stored once and delivered many times.
///
/// Media is never inlined (`media.data`, base64, is dropped: the tenant fetches `media.url`), the
/// engine's raw message (`_data`) is dropped, and a text longer than ``maximumText`` characters
/// (a message body, a caption) is cut there, the payload marked `"truncated": true`.
public enum StoredPayload {
    /// The longest text kept: WhatsApp's own limit for a message is 65,536 characters.
    public static let maximumText = 65_536
    /// The deepest nesting kept.
    static let maximumDepth = 16

    /// The payload as stored.
    public static func trim(_ payload: JSONValue) -> JSONValue {
        var truncated = false
        var trimmed = trim(payload, depth: 0, truncated: &truncated)
        if truncated, case .object(var members) = trimmed {
            members["truncated"] = .bool(true)
            trimmed = .object(members)
        }
        return trimmed
    }

    private static func trim(_ value: JSONValue, depth: Int, truncated: inout Bool) -> JSONValue {
        switch value {
        case .string(let text) where text.count > maximumText:
            truncated = true
            return .string(String(text.prefix(maximumText)))
        case .object(let members):
            guard depth < maximumDepth else {
                truncated = true
                return .null
            }
            var kept: [String: JSONValue] = [:]
            for (key, member) in members {
                if key == "_data" || (key == "data" && depth > 0 && members["mimetype"] != nil) {
                    truncated = truncated || key == "data"
                    continue
                }
                kept[key] = trim(member, depth: depth + 1, truncated: &truncated)
            }
            return .object(kept)
        case .array(let items):
            guard depth < maximumDepth else {
                truncated = true
                return .null
            }
            return .array(items.map { trim($0, depth: depth + 1, truncated: &truncated) })
        default:
            return value
        }
    }
}
