import Crypto
public import Foundation

extension APIKeyRecord {
    /// A new API key for a tenant: the key to show once (`wk_<prefix>.<secret>`) and the record to
    /// store, which holds a salted SHA-256 of the secret and never the secret itself.
    public static func generate(for tenant: TenantID, at date: Date = Date()) -> (key: String, record: APIKeyRecord) {
        let prefix = "wk_" + Hex.random(bytes: 6)
        let secret = Hex.random(bytes: 24)
        let salt = Hex.random(bytes: 16)
        let record = APIKeyRecord(prefix: prefix, tenant: tenant, hash: "sha256:\(salt):\(digest(salt: salt, secret: secret))", createdAt: date)
        return ("\(prefix).\(secret)", record)
    }

    /// The public prefix of a presented key (`wk_…` before the dot), to look its record up.
    public static func prefix(of presentedKey: String) -> String? {
        guard let dot = presentedKey.firstIndex(of: "."), presentedKey.hasPrefix("wk_") else { return nil }
        return String(presentedKey[..<dot])
    }

    /// Whether `presentedKey` is this record's key and the key is not revoked; compares in constant time.
    public func accepts(_ presentedKey: String, at date: Date = Date()) -> Bool {
        guard revokedAt.map({ $0 > date }) ?? true, Self.prefix(of: presentedKey) == prefix else { return false }
        let secret = String(presentedKey.dropFirst(prefix.count + 1))
        let parts = hash.split(separator: ":")
        guard parts.count == 3, parts[0] == "sha256" else { return false }
        return Hex.constantTimeEqual(Array(parts[2].utf8), Array(Self.digest(salt: String(parts[1]), secret: secret).utf8))
    }

    private static func digest(salt: String, secret: String) -> String {
        Hex.encode(SHA256.hash(data: Array("\(salt):\(secret)".utf8)))
    }
}
