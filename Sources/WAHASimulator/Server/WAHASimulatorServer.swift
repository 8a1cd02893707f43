public import CurlHTTP
import Foundation
public import Hummingbird
public import Logging
import WhagoCore

/// The simulator's HTTP server: WAHA's API, plus `/_sim` controls for tests and demos.
public struct WAHASimulatorServer: Sendable {
    public let configuration: SimulatorConfiguration
    let sessions: SessionManager
    let faults = FaultInjector()
    let startedAt = Date()
    let logger: Logger

    public init(configuration: SimulatorConfiguration, logger: Logger, client: HTTPClient = .shared) throws {
        self.configuration = configuration
        self.logger = logger
        self.sessions = try SessionManager(configuration: configuration, client: client, logger: logger)
    }

    /// Runs until SIGTERM or SIGINT; `onRunning` gets the port listened on.
    public func run(onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        try await makeApplication(onRunning: onRunning).runService()
    }

    /// The simulator as a `Service`, for a `ServiceGroup` of the caller's (tests stop it with a
    /// graceful shutdown, never by cancelling: NIO must not see connections arrive after it).
    public func makeApplication(onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) -> some ApplicationProtocol {
        let router = Router()
        router.add(middleware: FaultMiddleware(injector: faults))
        router.add(middleware: APIKeyMiddleware(key: configuration.apiKey.map(APIKey.init(configured:)), excludedPaths: configuration.excludedPaths))
        addServerRoutes(to: router)
        addSessionRoutes(to: router)
        addAuthRoutes(to: router)
        addMessageRoutes(to: router)
        addMediaRoutes(to: router)
        addControlRoutes(to: router)
        let sessions = self.sessions
        let host = configuration.host
        let logger = self.logger
        let app = Application(
            router: router,
            configuration: .init(address: .hostname(host, port: configuration.port), serverName: "WAHA-simulator"),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? 0
                do {
                    try await sessions.start(listeningOn: host, port: port)
                } catch {
                    logger.error("cannot load the kept sessions: \(error)")
                }
                await onRunning(port)
            },
            logger: logger
        )
        return app
    }

    private func addServerRoutes(to router: Router<BasicRequestContext>) {
        router.get("/ping") { _, _ in Reply.json(.object(["message": "pong"])) }
        router.get("/health") { _, _ in
            let up: JSONValue = .object(["status": "up"])
            let info: JSONValue = .object(["mediaFiles.space": up, "sessionsFiles.space": up])
            return Reply.json(.object(["status": "ok", "info": info, "error": .object([:]), "details": info]))
        }
        let version: JSONValue = .object([
            "version": .string(SimulatedWAHA.version), "engine": .string(configuration.engine), "tier": .string(SimulatedWAHA.tier),
            "browser": "", "platform": "linux/x64",
            "worker": .object(["id": configuration.workerID.map(JSONValue.string) ?? .null]),
        ])
        router.get("/api/server/version") { _, _ in Reply.json(version) }
        // WAHA's older, deprecated alias (`VersionController`).
        router.get("/api/version") { _, _ in Reply.json(version) }
        router.get("/api/server/status") { _, _ in
            let start = (startedAt.timeIntervalSince1970 * 1000).rounded()
            return Reply.json(.object([
                "startTimestamp": .number(start), "uptime": .number((Date().timeIntervalSince1970 * 1000).rounded() - start),
                "worker": .object(["id": .string(configuration.workerID ?? "waha-sim")]),
            ]))
        }
    }
}
