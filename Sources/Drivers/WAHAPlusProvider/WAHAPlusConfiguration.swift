import Foundation
import WhagoCore

/// `sessions.waha-plus`.
struct WAHAPlusConfiguration: DriverConfiguration {
    /// WAHA's engines.
    enum Engine: String, Decodable, CaseIterable, Sendable {
        case gows = "GOWS", noweb = "NOWEB", webjs = "WEBJS"

        /// The proxy protocols the engine can use with credentials (WAHA's source, 2026.2):
        /// GOWS makes every proxy `http://…` (`getProxyUrl`); NOWEB connects through an HTTP(S)
        /// proxy agent (`createAgentProxy`); WEBJS's Chromium cannot authenticate to SOCKS.
        var proxySchemes: [ProxyEndpoint.Scheme] {
            switch self {
            case .gows: [.http]
            case .noweb, .webjs: [.http, .https]
            }
        }

        /// Why, in a few words.
        var proxyReason: String {
            switch self {
            case .gows: "GOWS builds http://user:password@server from it: HTTP only"
            case .noweb: "NOWEB connects through an HTTP(S) proxy agent"
            case .webjs: "WEBJS's Chromium cannot authenticate to a SOCKS proxy"
            }
        }
    }

    /// WAHA's webhook retry policies.
    enum RetryPolicy: String, Decodable, CaseIterable, Sendable {
        case constant, linear, exponential
    }

    var image: String
    var engine: Engine
    var sessionsPerWorker: Int
    var requestTimeout: TimeSpan
    /// How WAHA retries a webhook whago did not acknowledge.
    var webhookRetries: Int
    var webhookRetryDelay: TimeSpan
    var webhookRetryPolicy: RetryPolicy
    /// The oldest (or most future) signed envelope `timestamp` accepted; longer than WAHA's whole
    /// retry schedule, so a late retry of a genuine webhook is not refused.
    var webhookMaxSkew: TimeSpan
    var webhookReplayWindow: TimeSpan? { webhookMaxSkew }
    /// Extra environment of every worker (time zone, WAHA settings whago does not manage); whago's
    /// own variables cannot be overridden.
    var environment: [String: String]
    /// WAHA's `WHATSAPP_SESSIONS_POSTGRESQL_URL`: workers keep their sessions in PostgreSQL (each
    /// under its `WAHA_WORKER_ID`) instead of their volume, so a worker re-created on another host
    /// keeps its paired chips. Needed past one host (the `swarm` runtime).
    var sessionsDatabaseURL: Secret?
    /// Which URLs a tenant may make a worker fetch (media, link previews).
    var mediaURLs = MediaURLPolicy()

    /// Variables whago sets itself in every worker.
    static let reservedEnvironment: Set<String> = [
        "WHATSAPP_DEFAULT_ENGINE", "WAHA_API_KEY", "WHATSAPP_API_KEY", "WAHA_API_KEY_EXCLUDE_PATH", "WHATSAPP_API_KEY_EXCLUDE_PATH",
        "WAHA_PRINT_QR", "WHATSAPP_RESTART_ALL_SESSIONS", "WAHA_WORKER_RESTART_SESSIONS", "WAHA_WORKER_ID", "PORT", "WHATSAPP_API_PORT",
        "WHATSAPP_SESSIONS_POSTGRESQL_URL",
    ]

    /// How long after its first attempt WAHA sends the last retry of a webhook, at the latest:
    /// WAHA's `WebhookSender` (axios-retry) waits before retry k `delay` (constant), `k · delay`
    /// (linear) or `2^k · delay` plus up to 20 % (exponential). The retries' envelopes keep the
    /// event's own signed timestamp, so `webhookMaxSkew` must cover this. Defaults (10, 2 s,
    /// exponential): 2·1.2·(2¹¹ − 2) = 4,910 s.
    var webhookRetrySchedule: Duration {
        let delay = webhookRetryDelay.duration.seconds
        let retries = Double(webhookRetries)
        switch webhookRetryPolicy {
        case .constant: return .seconds(delay * retries)
        case .linear: return .seconds(delay * retries * (retries + 1) / 2)
        case .exponential: return .seconds(delay * 1.2 * (pow(2, min(retries, 40) + 1) - 2))
        }
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case image, engine, sessionsPerWorker, requestTimeout, webhookRetries, webhookRetryDelay, webhookRetryPolicy, webhookMaxSkew
        case environment, sessionsDatabaseURL, mediaURLs
    }

    init() {
        image = "devlikeapro/waha:gows"
        engine = .gows
        sessionsPerWorker = 10
        requestTimeout = .seconds(30)
        webhookRetries = 10
        webhookRetryDelay = .seconds(2)
        webhookRetryPolicy = .exponential
        // Longer than the default retry schedule (4,910 s), so WAHA's last retry is accepted.
        webhookMaxSkew = .seconds(7200)
        environment = [:]
    }

    init(from decoder: any Decoder) throws {
        self.init()
        let container = try decoder.container(keyedBy: CodingKeys.self)
        image = try container.decodeIfPresent(NonEmptyString.self, forKey: .image)?.value ?? image
        engine = try container.decodeIfPresent(Engine.self, forKey: .engine) ?? engine
        sessionsPerWorker = try container.decodeIfPresent(PositiveInt.self, forKey: .sessionsPerWorker)?.value ?? sessionsPerWorker
        requestTimeout = try container.decodeIfPresent(TimeSpan.self, forKey: .requestTimeout) ?? requestTimeout
        webhookRetries = try container.decodeIfPresent(PositiveInt.self, forKey: .webhookRetries)?.value ?? webhookRetries
        webhookRetryDelay = try container.decodeIfPresent(TimeSpan.self, forKey: .webhookRetryDelay) ?? webhookRetryDelay
        webhookRetryPolicy = try container.decodeIfPresent(RetryPolicy.self, forKey: .webhookRetryPolicy) ?? webhookRetryPolicy
        webhookMaxSkew = try container.decodeIfPresent(TimeSpan.self, forKey: .webhookMaxSkew) ?? webhookMaxSkew
        environment = try container.decodeIfPresent([String: String].self, forKey: .environment) ?? [:]
        sessionsDatabaseURL = try container.decodeIfPresent(DatabaseURL.self, forKey: .sessionsDatabaseURL)?.secret
        mediaURLs = try container.decodeIfPresent(MediaURLPolicy.self, forKey: .mediaURLs) ?? mediaURLs
        if let reserved = environment.keys.sorted().first(where: { Self.reservedEnvironment.contains($0) }) {
            throw DecodingError.dataCorruptedError(forKey: .environment, in: container,
                                                   debugDescription: "\(reserved) is set by whago itself and cannot be overridden")
        }
        if let bad = environment.keys.sorted().first(where: { $0.isEmpty || !$0.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }) }) {
            throw DecodingError.dataCorruptedError(forKey: .environment, in: container,
                                                   debugDescription: "'\(bad)' is not an environment variable name (letters, digits and _)")
        }
        guard webhookMaxSkew.duration > webhookRetrySchedule else {
            let schedule = Int(webhookRetrySchedule.seconds.rounded(.up))
            throw DecodingError.dataCorruptedError(
                forKey: container.contains(.webhookMaxSkew) ? .webhookMaxSkew : .webhookRetries, in: container,
                debugDescription: "webhookMaxSkew (\(webhookMaxSkew)) must be longer than WAHA's webhook retry schedule "
                    + "(\(schedule)s with webhookRetries \(webhookRetries), webhookRetryDelay \(webhookRetryDelay), "
                    + "\(webhookRetryPolicy.rawValue)), or late retries of genuine webhooks are refused")
        }
    }

    /// A PostgreSQL URL, a secret (it holds a password).
    struct DatabaseURL: Decodable {
        let secret: Secret

        init(from decoder: any Decoder) throws {
            secret = try Secret(from: decoder)
            let url = secret.revealed
            guard url.hasPrefix("postgres://") || url.hasPrefix("postgresql://") else {
                throw ConfigValueError("must be a postgres://user:password@host:5432/database URL")
            }
        }
    }

    static let sample = """
        waha-plus:
          image: devlikeapro/waha:gows   # pin a version tag in production, e.g. devlikeapro/waha:gows-2026.7.1 ({engine}-{version})
          engine: GOWS                   # GOWS, NOWEB or WEBJS
          sessionsPerWorker: 10          # chips per WAHA worker
          requestTimeout: 30s            # per call to a worker's API
          webhookRetries: 10             # WAHA's retries of a webhook whago did not acknowledge
          webhookRetryDelay: 2s
          webhookRetryPolicy: exponential   # constant, linear or exponential
          webhookMaxSkew: 2h             # webhooks signed further from now are refused; longer than the retry schedule (4,910 s by default)
          # environment: { TZ: America/Sao_Paulo }   # extra variables for every worker
          # sessionsDatabaseURL: ${WAHA_SESSIONS_DATABASE_URL}   # keep sessions in PostgreSQL (several hosts)
          # mediaURLs:                   # URLs a tenant may make a worker fetch (media, link previews): https to public addresses
          #   allowHTTP: false
          #   allowPrivateNetworks: false
          #   allowedNetworks: [10.20.0.0/16]
        """
}
