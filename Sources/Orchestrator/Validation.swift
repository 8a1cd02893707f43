public import Foundation
public import WhagoCore

/// Checks of what tenants and the admin send, before it reaches a store, a worker or a proxy login:
/// one function per rule, called by the services and, where the API must parse first, by the API.
public enum Validation {
    /// A tenant's name: 1 to 128 characters without control characters, spaces trimmed.
    public static func tenantName(_ name: String) throws -> String {
        let trimmed = name.trimmingSpaces()
        guard !trimmed.isEmpty, trimmed.count <= 128, !trimmed.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw WhagoError(.invalidRequest, "a tenant name is 1 to 128 characters without control characters")
        }
        return trimmed
    }

    /// A tenant's chip limit: 1 to 100,000.
    public static func chipLimit(_ limit: Int) throws -> Int {
        guard (1...100_000).contains(limit) else { throw WhagoError(.invalidRequest, "chipLimit must be 1 to 100000") }
        return limit
    }

    /// A tenant's webhook URL: http or https, with a host, at most 2048 characters.
    public static func webhookURL(_ text: String) throws -> URL {
        guard text.utf8.count <= 2048, let url = URL(string: text), ["http", "https"].contains(url.scheme?.lowercased() ?? ""),
              url.host?.isEmpty == false else {
            throw WhagoError(.invalidRequest, "webhook.url must be an http or https URL of at most 2048 characters")
        }
        return url
    }

    /// A webhook secret a tenant chose: 16 to 256 characters.
    public static func webhookSecret(_ secret: String) throws -> Secret {
        guard (16...256).contains(secret.utf8.count) else { throw WhagoError(.invalidRequest, "webhook.secret must be 16 to 256 characters") }
        return Secret(secret)
    }

    /// 1 to 64 characters, no control characters, not only spaces.
    static func chipName(_ name: String) throws -> String {
        let trimmed = name.trimmingSpaces()
        guard !trimmed.isEmpty, trimmed.count <= 64, !trimmed.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw WhagoError(.invalidRequest, "a chip name is 1 to 64 characters without control characters")
        }
        return trimmed
    }

    /// Two letters (ISO 3166-1 alpha-2), lower-cased.
    static func country(_ code: String) throws -> String {
        guard code.count == 2, code.allSatisfy({ $0.isASCII && $0.isLetter }) else {
            throw WhagoError(.invalidRequest, "country must be a two-letter ISO 3166 code such as br or us")
        }
        return code.lowercased()
    }

    /// ASCII letters only (a proxy login parameter), lower-cased.
    static func city(_ name: String) throws -> String {
        guard (1...40).contains(name.count), name.allSatisfy({ $0.isASCII && $0.isLetter }) else {
            throw WhagoError(.invalidRequest, "city must be 1 to 40 ASCII letters without spaces, such as saopaulo")
        }
        return name.lowercased()
    }

    /// Digits, country code first (a leading `+` and spaces or dashes are dropped); 7 to 15 digits.
    static func phoneNumber(_ number: String) throws -> String {
        var text = Substring(number.trimmingSpaces())
        if text.hasPrefix("+") { text = text.dropFirst() }
        let digits = text.filter { $0 != " " && $0 != "-" }
        guard (7...15).contains(digits.count), digits.allSatisfy({ $0.isASCII && $0.isNumber }) else {
            throw WhagoError(.invalidRequest, "phoneNumber must be 7 to 15 digits, country code first, such as 5511999999999")
        }
        return String(digits)
    }

    /// A WhatsApp chat id such as `5511999999999@c.us` or `<id>@g.us`.
    static func chatID(_ id: String) throws -> String {
        guard (3...128).contains(id.utf8.count), id.contains("@"),
              id.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "@._-:".contains($0)) }) else {
            throw WhagoError(.invalidRequest, "chatId must be a WhatsApp id such as 5511999999999@c.us")
        }
        return id
    }

    /// 1 to 4096 characters.
    static func messageText(_ text: String) throws -> String {
        guard !text.isEmpty, text.count <= 4096 else { throw WhagoError(.invalidRequest, "text must be 1 to 4096 characters") }
        return text
    }

    /// 1 to 128 printable ASCII characters.
    static func idempotencyKey(_ key: String) throws -> String {
        guard (1...128).contains(key.utf8.count), key.allSatisfy({ $0.isASCII && !$0.isWhitespace && $0.asciiValue! >= 0x21 && $0.asciiValue! < 0x7F }) else {
            throw WhagoError(.invalidRequest, "an Idempotency-Key is 1 to 128 printable ASCII characters")
        }
        return key
    }
}
