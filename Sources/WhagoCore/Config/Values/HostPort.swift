/// A listening address: `127.0.0.1:8080`, `[::1]:8080`, `0.0.0.0:8080` or `localhost:8080`.
public struct HostPort: Sendable, Hashable, CustomStringConvertible, LosslessStringConvertible, Decodable {
    /// Host name or IP address, without brackets.
    public let host: String
    /// TCP port, 0 meaning "any free port".
    public let port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    public init?(_ text: String) {
        try? self.init(parsing: text)
    }

    public init(parsing text: String) throws(ConfigValueError) {
        let expected = "expected HOST:PORT such as 127.0.0.1:8080 or [::1]:8080"
        let trimmed = text.trimmingSpaces()
        var host: Substring
        var portText: Substring
        if trimmed.hasPrefix("[") {
            guard let close = trimmed.firstIndex(of: "]"), trimmed[trimmed.index(after: close)...].hasPrefix(":") else {
                throw ConfigValueError("invalid address '\(text)'; \(expected)")
            }
            host = trimmed[trimmed.index(after: trimmed.startIndex)..<close]
            portText = trimmed[trimmed.index(close, offsetBy: 2)...]
        } else {
            guard let colon = trimmed.lastIndex(of: ":") else {
                throw ConfigValueError("invalid address '\(text)': the port is missing; \(expected)")
            }
            host = trimmed[..<colon]
            portText = trimmed[trimmed.index(after: colon)...]
            guard !host.contains(":") else {
                throw ConfigValueError("invalid address '\(text)': write IPv6 addresses in brackets; \(expected)")
            }
        }
        if host.isEmpty { host = "0.0.0.0" }
        guard !portText.isEmpty, portText.count <= 5, portText.allSatisfy({ $0.isASCII && $0.isNumber }),
              let port = Int(portText), port <= 65535
        else {
            throw ConfigValueError("invalid address '\(text)': bad port '\(portText)'; \(expected)")
        }
        guard host.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "." || $0 == "-" || $0 == ":" || $0 == "_" }) else {
            throw ConfigValueError("invalid address '\(text)': bad host '\(host)'; \(expected)")
        }
        self.host = String(host)
        self.port = port
    }

    public init(from decoder: any Decoder) throws {
        try self.init(parsing: try decoder.singleValueContainer().decode(String.self))
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}
