import Foundation

/// WAHA's check of a webhook URL: class-validator's `IsUrl` with `protocols: [http, https]`,
/// `require_protocol: true`, `require_tld: false` (`webhooks.config.dto.ts`), that is validator.js's
/// `isURL`: an http or https URL of at most 2083 characters whose host is an IP address or a name
/// of letters, digits and hyphens — an underscore (`http://stack_whago:8080`) is refused, as
/// validator.js's default `allow_underscores: false` does.
enum WebhookURL {
    static func isValid(_ url: String) -> Bool {
        guard url.count <= 2083, !url.contains(where: { $0.isWhitespace }) else { return false }
        let lower = url.lowercased()
        guard lower.hasPrefix("http://") || lower.hasPrefix("https://") else { return false }
        let rest = url[url.index(url.startIndex, offsetBy: lower.hasPrefix("https://") ? 8 : 7)...]
        var authority = Substring(rest.prefix { !"/?#".contains($0) })
        if let at = authority.lastIndex(of: "@") { authority = authority[authority.index(after: at)...] }
        var host = String(authority)
        if host.hasPrefix("[") {
            guard let close = host.firstIndex(of: "]") else { return false }
            let address = String(host[host.index(after: host.startIndex)..<close])
            var v6 = in6_addr()
            guard inet_pton(AF_INET6, address, &v6) == 1 else { return false }
            let after = host[host.index(after: close)...]
            return after.isEmpty || (after.hasPrefix(":") && validPort(after.dropFirst()))
        }
        if let colon = host.lastIndex(of: ":") {
            guard validPort(host[host.index(after: colon)...]) else { return false }
            host = String(host[..<colon])
        }
        var v4 = in_addr()
        if inet_pton(AF_INET, host, &v4) == 1 { return true }
        let labels = host.split(separator: ".", omittingEmptySubsequences: false)
        return !host.isEmpty && labels.allSatisfy { label in
            !label.isEmpty && label.count <= 63 && !label.hasPrefix("-") && !label.hasSuffix("-")
                && label.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" }
        }
    }

    private static func validPort(_ text: Substring) -> Bool {
        guard !text.isEmpty, text.count <= 5, text.allSatisfy({ $0.isASCII && $0.isNumber }), let port = Int(text) else { return false }
        return (1...65535).contains(port)
    }
}
