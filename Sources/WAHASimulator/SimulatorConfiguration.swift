import Foundation

/// How a simulator runs: from `whago waha-sim` options, falling back to WAHA's own environment
/// variables, so one worker template serves real WAHA and the simulator alike.
public struct SimulatorConfiguration: Sendable {
    /// The address to listen on (`WAHA_SIM_HOST`; default 127.0.0.1 — set 0.0.0.0 inside a container).
    public var host = "127.0.0.1"
    /// `PORT`, then `WHATSAPP_API_PORT`; default 3000 as WAHA's. 0 picks a free port.
    public var port = 3000
    /// `WAHA_API_KEY` / `WHATSAPP_API_KEY`: plain, or `sha512:<hex>`. `nil`: no key required.
    public var apiKey: String?
    /// Paths exempt from the key (`WAHA_API_KEY_EXCLUDE_PATH`), e.g. `ping`, `health`.
    public var excludedPaths: Set<String> = []
    /// `WHATSAPP_DEFAULT_ENGINE` (GOWS, NOWEB, WEBJS); reported in webhooks and `/api/server/version`.
    public var engine = "GOWS"
    /// `WAHA_WORKER_ID`.
    public var workerID: String?
    /// Every life-cycle delay (QR validity, start-up, retries, waits) is divided by this.
    public var timeScale: Double = 1
    /// Where sessions are kept across restarts (WAHA's `/app/.sessions`); `nil`: memory only.
    public var dataDirectory: String?
    /// `WHATSAPP_SESSIONS_POSTGRESQL_URL`: keep sessions in PostgreSQL (under ``workerID``) rather
    /// than in ``dataDirectory``, so that a worker re-created elsewhere keeps them.
    public var sessionsDatabaseURL: String?
    /// What a session fetches through its proxy at start; default this simulator's own `/ping`.
    public var probeURL: String?
    /// `WAHA_PUBLIC_URL`: the address QR values name (the worker's published address).
    public var publicURL: String?
    /// `WHATSAPP_RESTART_ALL_SESSIONS` (default false): at boot, start every session of the store,
    /// stopped ones included — with a shared database, every worker's.
    public var restartAllSessions = false
    /// `WAHA_WORKER_RESTART_SESSIONS` (default true): at boot, start this worker's sessions that
    /// were running.
    public var restartWorkerSessions = true

    public init() {}

    /// Reads WAHA's environment variables.
    public static func fromEnvironment(_ environment: [String: String]) -> SimulatorConfiguration {
        var configuration = SimulatorConfiguration()
        if let host = environment["WAHA_SIM_HOST"], !host.isEmpty { configuration.host = host }
        if let port = (environment["PORT"] ?? environment["WHATSAPP_API_PORT"]).flatMap(Int.init) { configuration.port = port }
        if let key = environment["WAHA_API_KEY"] ?? environment["WHATSAPP_API_KEY"], !key.isEmpty { configuration.apiKey = key }
        if let paths = environment["WAHA_API_KEY_EXCLUDE_PATH"] ?? environment["WHATSAPP_API_KEY_EXCLUDE_PATH"] {
            configuration.excludedPaths = Set(paths.split(separator: ",").map { $0.trimmingCharacters(in: CharacterSet(charactersIn: " /")) })
        }
        if let engine = environment["WHATSAPP_DEFAULT_ENGINE"], !engine.isEmpty { configuration.engine = engine.uppercased() }
        configuration.workerID = environment["WAHA_WORKER_ID"].flatMap { $0.isEmpty ? nil : $0 }
        configuration.publicURL = environment["WAHA_PUBLIC_URL"].flatMap { $0.isEmpty ? nil : $0 }
        // WAHA's own session directory variable: a worker template that sets it for WAHA sets it here too.
        configuration.dataDirectory = environment["WAHA_LOCAL_STORE_BASE_DIR"].flatMap { $0.isEmpty ? nil : $0 }
        configuration.sessionsDatabaseURL = environment["WHATSAPP_SESSIONS_POSTGRESQL_URL"].flatMap { $0.isEmpty ? nil : $0 }
        configuration.restartAllSessions = environment["WHATSAPP_RESTART_ALL_SESSIONS"].map(parseBool) ?? false
        configuration.restartWorkerSessions = environment["WAHA_WORKER_RESTART_SESSIONS"].map(parseBool) ?? true
        return configuration
    }

    /// WAHA's `parseBool`: `true`, `1`, `yes` and `on` in any case are true.
    static func parseBool(_ text: String) -> Bool {
        ["true", "1", "yes", "on"].contains(text.trimmingCharacters(in: .whitespaces).lowercased())
    }

    /// `delay` divided by the time scale.
    func scaled(_ delay: Duration) -> Duration {
        timeScale > 0 ? delay / timeScale : delay
    }
}

/// The version the simulator reports: one with every former Plus feature (multi-session).
public enum SimulatedWAHA {
    public static let version = "2026.7.1"
    public static let tier = "CORE"
}
