import Foundation

/// A credential (admin token, API key, WAHA key, proxy password) that must never be shown.
///
/// Its description, debug description and mirror are `<redacted>`, so it cannot leak through
/// string interpolation, `dump` or a logged configuration. In configuration files it is written
/// inline (usually `${ENV_VAR}`) or as `file:/path/to/secret`, which reads the file when the
/// configuration is loaded and drops the trailing newline — the Docker and Kubernetes secrets convention.
public struct Secret: Sendable, Hashable, Codable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// The secret itself. Read it only to hand it to the peer that needs it.
    public let revealed: String

    public init(_ revealed: String) { self.revealed = revealed }

    /// Reads a secret from a file, trimming one trailing newline (`\n` or `\r\n`).
    public static func load(fromFile path: String) throws(ConfigValueError) -> Secret {
        guard !path.isEmpty else { throw ConfigValueError("'file:' needs a path, e.g. file:/run/secrets/token") }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw ConfigValueError("cannot read secret file '\(path)': \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = read(fd, &chunk, chunk.count)
            if count < 0 {
                throw ConfigValueError("cannot read secret file '\(path)': \(String(cString: strerror(errno)))")
            }
            if count == 0 { break }
            bytes += chunk[..<count]
            guard bytes.count <= 1 << 20 else { throw ConfigValueError("secret file '\(path)' is larger than 1 MiB") }
        }
        guard var text = String(validating: bytes, as: UTF8.self) else {
            throw ConfigValueError("secret file '\(path)' is not UTF-8 text")
        }
        if text.hasSuffix("\r\n") { text.removeLast(2) } else if text.hasSuffix("\n") { text.removeLast() }
        guard !text.isEmpty else { throw ConfigValueError("secret file '\(path)' is empty") }
        return Secret(text)
    }

    /// Decodes `file:/path` by reading the file when decoding a configuration file (see
    /// ``Swift/CodingUserInfoKey/configurationFile``), anything else as the secret itself. A stored
    /// record that holds `file:…` is that text, never a file read on whago's behalf.
    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        if SecretSealer.isSealed(text) {
            guard let sealer = decoder.userInfo[.secretSealer] as? SecretSealer else {
                throw WhagoError(.unauthorized, "the store's secrets are sealed: give whago its master key (server.masterKey, or <dataDir>/master-key)")
            }
            self = try sealer.open(text)
            return
        }
        if text.hasPrefix("file:"), decoder.userInfo[.configurationFile] as? Bool == true {
            let path = String(text.dropFirst("file:".count))
            // Checked with placeholders (a CI without secrets): a file that is not there stands in.
            if let placeholder = decoder.userInfo[.placeholderRecorder] as? @Sendable (String) -> Void, !path.isEmpty,
               !FileManager.default.fileExists(atPath: path) {
                let key = decoder.codingPath.map(\.stringValue).joined(separator: ".")
                placeholder("\(key): the secret file '\(path)' does not exist: a placeholder stands in for it")
                self.init("placeholder")
                return
            }
            self = try Secret.load(fromFile: path)
        } else {
            guard !text.isEmpty else { throw ConfigValueError("the secret is empty") }
            self.init(text)
        }
    }

    /// Encodes the secret sealed when the encoder carries a ``SecretSealer`` (stores do), else
    /// the secret itself.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        if let sealer = encoder.userInfo[.secretSealer] as? SecretSealer {
            try container.encode(try sealer.seal(self))
        } else {
            try container.encode(revealed)
        }
    }

    /// Whether `candidate` is this secret, in a time that depends only on the lengths: a
    /// credential check must not tell an attacker how many leading characters were right.
    public func matches(_ candidate: some StringProtocol) -> Bool {
        Hex.constantTimeEqual(Array(revealed.utf8), Array(candidate.utf8))
    }

    /// Equality in constant time (see ``matches(_:)``).
    public static func == (lhs: Secret, rhs: Secret) -> Bool { lhs.matches(rhs.revealed) }

    public func hash(into hasher: inout Hasher) { hasher.combine(revealed) }

    public var description: String { "<redacted>" }
    public var debugDescription: String { "<redacted>" }
    public var customMirror: Mirror { Mirror(self, children: [:]) }
}
