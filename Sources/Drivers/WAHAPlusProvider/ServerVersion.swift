import WhagoCore

/// What `GET /api/server/version` says, and whether that WAHA runs several sessions.
struct ServerVersion: Sendable, CustomStringConvertible {
    var version: String
    var engine: String
    var tier: String

    /// The worker's words, bounded: they end up in health reports and logs.
    init(_ json: JSONValue) {
        version = json["version"]?.stringValue.map { WorkerText.clean($0, limit: 40) } ?? "unknown"
        engine = json["engine"]?.stringValue.map { WorkerText.clean($0, limit: 40) } ?? "unknown"
        tier = json["tier"]?.stringValue.map { WorkerText.clean($0, limit: 40) } ?? "unknown"
    }

    var description: String { "WAHA \(version) \(engine) \(tier)" }

    /// Before 2026.6.1, WAHA Core ran a single session (`default`); Plus was needed for more.
    var multiSessionWarning: String? {
        let parts = version.split(separator: ".").compactMap { Int($0) }
        guard tier.uppercased() == "CORE", parts.count >= 2 else { return nil }
        let older = (parts[0], parts[1], parts.count > 2 ? parts[2] : 0) < (2026, 6, 1)
        return older ? "WAHA Core \(version) runs one session per worker: use 2026.6.1 or newer (or WAHA Plus)" : nil
    }
}
