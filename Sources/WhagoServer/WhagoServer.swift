import Foundation
import Hummingbird
public import Logging
import NIOCore
import OpenAPIHummingbird
import OpenAPIRuntime
public import Orchestrator
public import ServiceLifecycle
import Synchronization
public import WhagoCore

/// whago's HTTP face: the REST API (generated from openapi.yaml), the web console, the WAHA webhook
/// receiver, metrics. It holds no loop: each handler is one call to the orchestrator, whose
/// services do the background work. The daemon runs ``services`` in its ServiceGroup after the
/// orchestrator's (so on SIGTERM the HTTP server stops first, then the orchestrator's services).
public struct WhagoServer: Sendable {
    /// What the server needs besides the orchestrator.
    public struct Configuration: Sendable {
        public var listen: HostPort
        /// The admin API's token.
        public var adminToken: Secret
        /// The token `/metrics` asks for (nil: open).
        public var metricsToken: Secret?
        /// Proxies whose `X-Forwarded-For` names the client (`server.trustedProxies`).
        public var trustedProxies: [NetworkRange] = []
        public var limits: LimitsConfig
        /// The largest request body (413 above it).
        public var maxBodySize: Int
        /// The key of the event cursors clients are given (``EventCursors``): the master key, so
        /// that every replica reads the others' cursors.
        public var cursorKey: Secret
        /// What time it is for the API keys' rate limits: the clock's, unless a test drives time.
        @_spi(Testing) public var rateLimitClock: @Sendable () -> ContinuousClock.Instant = { .now }

        public init(listen: HostPort, adminToken: Secret, limits: LimitsConfig = LimitsConfig(),
                    maxBodySize: Int = 1 << 20, cursorKey: Secret, metricsToken: Secret? = nil,
                    trustedProxies: [NetworkRange] = []) {
            self.trustedProxies = trustedProxies
            self.metricsToken = metricsToken
            self.cursorKey = cursorKey
            self.listen = listen
            self.adminToken = adminToken
            self.limits = limits
            self.maxBodySize = maxBodySize
        }
    }

    public let metrics: ServerMetrics
    /// Every API route the router serves, as `METHOD /path/{param}` (what the route-coverage test
    /// holds against openapi.yaml); the console's routes come on top.
    public let routes: [String]
    let application: Application<RouterResponder<WhagoRequestContext>>
    private let listening: Listening
    private let listen: HostPort

    /// Builds the routes; nothing listens before ``services`` run.
    public init(_ configuration: Configuration, orchestrator: Orchestrator, store: any Store,
                metrics: ServerMetrics = ServerMetrics(), logger: Logger) throws {
        let undeclared = OpenAPIDocument.undeclaredAccess
        guard undeclared.isEmpty else {
            throw WhagoError(.invalidConfig, "openapi.yaml does not say who may call \(undeclared.joined(separator: ", ")): "
                + "give each operation an x-whago-access (\(OpenAPIDocument.accessValues.sorted().joined(separator: ", ")))")
        }
        var logger = logger
        logger[metadataKey: "component"] = "api"
        self.metrics = metrics
        let router = Router(context: WhagoRequestContext.self)
        // The documented operations are the served routes (a test holds the two lists equal).
        let table = RouteTable(OpenAPIDocument.operations.map { "\($0.method) \($0.path)" } + ConsoleRoutes.routes)
        router.add(middleware: EdgeMiddleware(metrics: metrics, maxBodySize: configuration.maxBodySize, routes: table,
                                              trustedProxies: configuration.trustedProxies, logger: logger))
        WorkerWebhookRoute.register(on: router, intake: orchestrator.webhooks, ingest: orchestrator.webhookIngest,
                                    budget: WorkerWebhookBudget(configuration.limits.workerWebhooks, clock: configuration.rateLimitClock), metrics: metrics)
        let handler = APIHandler(
            orchestrator: orchestrator, store: store,
            metrics: metrics, events: EventFeed(log: orchestrator.events, cursors: EventCursors(key: configuration.cursorKey)),
            streams: Slots(perKey: configuration.limits.http.eventStreamsPerKey, total: configuration.limits.http.eventStreams),
            logger: logger)
        let middleware = APIMiddleware(
            adminToken: configuration.adminToken, metricsToken: configuration.metricsToken, tenants: orchestrator.tenants,
            limiter: RateLimiter(rate: configuration.limits.apiRequestsPerSecond, burst: configuration.limits.apiBurst,
                                 clock: configuration.rateLimitClock),
            authFailures: FailureLimiter(perMinute: configuration.limits.http.authFailuresPerMinute, clock: configuration.rateLimitClock),
            logger: logger)
        try handler.registerHandlers(on: router, serverURL: URL(string: "/")!,
                                     configuration: OpenAPIRuntime.Configuration(dateTranscoder: RFC3339Transcoder(), jsonEncodingOptions: [.withoutEscapingSlashes]),
                                     middlewares: [middleware])
        WAHAPassThroughRoute.register(on: router, gate: middleware, chips: orchestrator.chips, maxBodySize: configuration.maxBodySize,
                                      calls: Slots(perKey: configuration.limits.http.passThroughPerTenant))
        self.routes = router.routes.map { route in
            // `**` (any number of segments) is documented as the pass-through's `{path}`.
            let path = "\(route.path)".split(separator: "/", omittingEmptySubsequences: false).map { segment in
                segment == "**" ? "{path}" : segment.hasPrefix(":") ? "{\(segment.dropFirst())}" : String(segment)
            }.joined(separator: "/")
            return "\(route.method) \(path.hasPrefix("/") ? path : "/" + path)"
        }.sorted()
        ConsoleRoutes.register(on: router)
        let listening = Listening()
        self.listening = listening
        self.listen = configuration.listen
        let serverLogger = logger
        self.application = Application(
            router: router,
            server: .http1(configuration: .init(idleTimeout: .nanoseconds(Int64(configuration.limits.http.idleTimeout.duration.seconds * 1e9)))),
            configuration: .init(address: .hostname(configuration.listen.host, port: configuration.listen.port), serverName: "whago",
                                 availableConnectionsDelegate: .maximum(configuration.limits.http.maxConnections, logger: logger)),
            onServerRunning: { channel in
                listening.resolve(channel.localAddress?.port ?? configuration.listen.port)
                let port = channel.localAddress?.port ?? configuration.listen.port
                let host = configuration.listen.host.contains(":") ? "[\(configuration.listen.host)]" : configuration.listen.host
                serverLogger.info("listening on \(host):\(port); the web console is at http://\(host):\(port)/")
            },
            logger: logger)
    }

    /// The HTTP server, to run after the orchestrator's services in one ServiceGroup.
    public var services: [any Service] { [HTTPService(application: application, listen: listen, listening: listening)] }

    /// Returns the port once the server listens; nil when it could not listen (its service
    /// failed: the group stops), or when the task is cancelled first.
    public func waitUntilListening() async -> Int? {
        await listening.value()
    }
}

/// Whether the HTTP server listens: settled once (its port, or that it failed), awaited by any number
/// of callers, each until it is settled or the caller is cancelled.
final class Listening: Sendable {
    private struct State {
        /// nil: not settled; `.some(nil)`: the server failed before it listened.
        var outcome: Int??
        var waiters: [UUID: CheckedContinuation<Int?, Never>] = [:]
    }

    private let state = Mutex(State())

    /// Settles it: the port listened on, or nil when the server could not listen.
    func resolve(_ port: Int?) {
        let waiters = state.withLock { state -> [CheckedContinuation<Int?, Never>] in
            guard state.outcome == nil else { return [] }
            state.outcome = .some(port)
            defer { state.waiters = [:] }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.resume(returning: port) }
    }

    /// The port once the server listens; nil when it failed to, or the calling task is cancelled first.
    func value() async -> Int? {
        let id = UUID()
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Int?, Never>) in
                let ready = state.withLock { state -> Int?? in
                    if let outcome = state.outcome { return .some(outcome) }
                    if Task.isCancelled { return .some(nil) }
                    state.waiters[id] = continuation
                    return nil
                }
                if let ready { continuation.resume(returning: ready) }
            }
        } onCancel: {
            state.withLock { $0.waiters.removeValue(forKey: id) }?.resume(returning: nil)
        }
    }
}

/// The HTTP server as a service of the daemon's group: an address it cannot listen on fails it
/// with `cannot listen on HOST:PORT: <reason>` (and the group, and the daemon, with it).
struct HTTPService: Service {
    let application: Application<RouterResponder<WhagoRequestContext>>
    let listen: HostPort
    let listening: Listening

    func run() async throws {
        // Whatever ends the server before it listened settles the wait for it as failed.
        defer { listening.resolve(nil) }
        do {
            try await application.run()
        } catch let error as IOError {
            throw WhagoError(.unavailable, "cannot listen on \(listen): \(String(cString: strerror(error.errnoCode)).lowercased())")
        }
    }
}
