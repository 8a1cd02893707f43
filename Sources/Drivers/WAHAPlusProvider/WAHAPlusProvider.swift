public import WhagoCore
import Foundation

/// The `waha-plus` session provider: WAHA's HTTP API (WAHA ≥ 2026.6.1 includes every former Plus
/// feature: several sessions per worker, proxies, pairing codes).
///
/// This build describes workers (``workerTemplate(_:)``); the session operations arrive with the
/// session-drivers issue, and until then they fail with `not_implemented`.
public struct WAHAPlusProvider: SessionProvider {
    /// The registration entry (`waha` is accepted as an alias).
    public static let driver = Driver<any SessionProvider>(
        kind: .sessions, name: "waha-plus", aliases: ["waha"],
        summary: "WAHA's HTTP API: one WAHA session per chip, several per worker",
        sampleConfig: WAHAPlusConfiguration.sample,
        configuration: WAHAPlusConfiguration.self
    ) { configuration, _ in
        WAHAPlusProvider(configuration: configuration)
    }

    /// The port WAHA listens on inside its container.
    static let internalPort = 3000

    let configuration: WAHAPlusConfiguration

    public func healthCheck() async -> HealthReport {
        .ok("image \(configuration.image), engine \(configuration.engine.rawValue), \(configuration.sessionsPerWorker) sessions per worker")
    }

    public func workerTemplate(_ context: WorkerContext) -> WorkerTemplate {
        WorkerTemplate(
            image: configuration.image,
            environment: [
                "WHATSAPP_DEFAULT_ENGINE": configuration.engine.rawValue,
                "WAHA_API_KEY": context.apiKey.revealed,
                "WAHA_API_KEY_EXCLUDE_PATH": "ping,health",
                "WAHA_PRINT_QR": "False",
                "WHATSAPP_RESTART_ALL_SESSIONS": "True",
                "WAHA_WORKER_ID": context.worker.rawValue,
            ],
            internalPort: Self.internalPort,
            dataPath: "/app/.sessions",
            healthPath: "/ping"
        )
    }

    public func health(of worker: WorkerEndpoint) async throws -> WorkerHealth { throw notYet("health") }
    public func ensureSession(_ chip: ChipSpec, on worker: WorkerEndpoint, proxy: ProxyEndpoint?, webhook: WebhookTarget) async throws {
        throw notYet("ensureSession")
    }
    public func status(of chip: ChipID, on worker: WorkerEndpoint) async throws -> SessionStatus? { throw notYet("status") }
    public func qrCode(of chip: ChipID, on worker: WorkerEndpoint) async throws -> QRCode { throw notYet("qrCode") }
    public func requestPairingCode(for chip: ChipID, phoneNumber: String, on worker: WorkerEndpoint) async throws -> String {
        throw notYet("requestPairingCode")
    }
    public func restart(_ chip: ChipID, on worker: WorkerEndpoint) async throws { throw notYet("restart") }
    public func stop(_ chip: ChipID, on worker: WorkerEndpoint) async throws { throw notYet("stop") }
    public func logout(_ chip: ChipID, on worker: WorkerEndpoint) async throws { throw notYet("logout") }
    public func delete(_ chip: ChipID, on worker: WorkerEndpoint) async throws { throw notYet("delete") }
    public func sendText(_ message: OutgoingText, from chip: ChipID, on worker: WorkerEndpoint) async throws -> SentMessage {
        throw notYet("sendText")
    }
    public func decodeWebhook(body: [UInt8], headers: [String: String], secret: Secret, now: Date) throws -> [ChipEvent] {
        throw notYet("decodeWebhook")
    }

    private func notYet(_ operation: String) -> WhagoError { .notImplemented(driver: "waha-plus", operation) }
}

/// `sessions.waha-plus`.
struct WAHAPlusConfiguration: DriverConfiguration {
    /// WAHA's engines.
    enum Engine: String, Decodable, CaseIterable {
        case gows = "GOWS", noweb = "NOWEB", webjs = "WEBJS"
    }

    var image: String
    var engine: Engine
    var sessionsPerWorker: Int
    var requestTimeout: TimeSpan

    enum CodingKeys: String, CodingKey, CaseIterable {
        case image, engine, sessionsPerWorker, requestTimeout
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        image = try container.decodeIfPresent(NonEmptyString.self, forKey: .image)?.value ?? "devlikeapro/waha:gows"
        engine = try container.decodeIfPresent(Engine.self, forKey: .engine) ?? .gows
        sessionsPerWorker = try container.decodeIfPresent(PositiveInt.self, forKey: .sessionsPerWorker)?.value ?? 10
        requestTimeout = try container.decodeIfPresent(TimeSpan.self, forKey: .requestTimeout) ?? .seconds(30)
    }

    static let sample = """
        waha-plus:
          image: devlikeapro/waha:gows   # pin a version tag in production
          engine: GOWS                   # GOWS, NOWEB or WEBJS
          sessionsPerWorker: 10          # chips per WAHA worker
          requestTimeout: 30s            # per call to a worker's API
        """
}
