import Foundation
import WhagoCore

/// WAHA's session statuses (the two passkey statuses are GOWS-only and never simulated).
enum SessionStatus: String, Codable, Sendable {
    case stopped = "STOPPED"
    case starting = "STARTING"
    case scanQRCode = "SCAN_QR_CODE"
    case working = "WORKING"
    case failed = "FAILED"
}

/// `{status, timestamp}`: one point of a session's recent history.
struct StatusPoint: Codable, Sendable {
    var status: SessionStatus
    var timestamp: Int64
}

/// WAHA's `MeInfo`: the paired account.
struct MeInfo: Codable, Sendable, Equatable {
    var id: String
    var pushName: String
    var lid: String?
    var jid: String?
}

/// The QR code a session waiting for a scan currently shows.
struct QRState: Sendable {
    var value: String
    var nonce: String
    var expiresAt: ContinuousClock.Instant
    /// 1 for the first QR (valid 60 s), up to 6.
    var index: Int
}

/// One simulated WAHA session. The persisted part is what WAHA keeps in `/app/.sessions`:
/// configuration, pairing and whether it should run.
struct SimulatedSession: Codable, Sendable {
    var name: String
    var config: JSONValue?
    var status: SessionStatus
    var statuses: [StatusPoint]
    var me: MeInfo?
    /// Whether the session should be running (start, restart) or not (stop, create with start:false).
    var running: Bool
    var lastActivity: Int64?

    var qr: QRState?
    var failureReason: String?
    /// Bumped on every start, stop or pairing so that a superseded life-cycle task stops.
    var generation = 0

    enum CodingKeys: String, CodingKey {
        case name, config, status, statuses, me, running, lastActivity
    }

    init(name: String, config: JSONValue?) {
        self.name = name
        self.config = config
        self.status = .stopped
        self.statuses = []
        self.running = false
    }

    /// The parts of `config` the simulator acts on.
    var parsedConfig: SessionConfigView {
        guard let config, let data = try? JSONEncoder().encode(config),
              let view = try? JSONDecoder().decode(SessionConfigView.self, from: data) else { return SessionConfigView() }
        return view
    }

    /// `config.metadata`, echoed in every webhook.
    var metadata: JSONValue {
        config?["metadata"] ?? .null
    }
}

/// What the simulator reads from a session's `config`; everything else is kept as given.
struct SessionConfigView: Decodable, Sendable {
    struct Proxy: Decodable, Sendable {
        var server: String
        var username: String?
        var password: String?
    }

    struct Webhook: Decodable, Sendable {
        struct HMAC: Decodable, Sendable { var key: String? }
        struct Retries: Decodable, Sendable {
            var delaySeconds: Double?
            var attempts: Int?
            var policy: String?
        }
        struct Header: Decodable, Sendable {
            var name: String
            var value: String
        }

        var url: String
        var events: [String]
        var hmac: HMAC?
        var retries: Retries?
        var customHeaders: [Header]?

        func wants(_ event: String) -> Bool { events.contains("*") || events.contains(event) }
    }

    var proxy: Proxy?
    var webhooks: [Webhook]?

    init() {}
}
