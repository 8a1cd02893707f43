public import Foundation
import FileStore
import Hummingbird
import DataImpulseProxy
import DockerRuntime
import LocalProcessRuntime
public import Logging
import NoProxy
public import Orchestrator
public import WhagoDaemon
import PostgresStore
import SwarmRuntime
import ServiceLifecycle
public import WAHAPlusProvider
public import WhagoCore
import WhagoTesting
@_spi(Testing) public import WhagoServer

/// A whole orchestrator in this process, as `whago serve` runs one: workers are `whago waha-sim`
/// processes under the `local` runtime (or simulator containers on a dockerd), sessions speak WAHA
/// to them, no proxy, a file store or
/// PostgreSQL, and a webhook receiver on 127.0.0.1 that hands workers' webhooks to the orchestrator.
/// For the orchestrator's tests, their crash harness and the provisioning benchmark.
public final class OrchestratorRig: Sendable {
    /// Where the rig keeps its state.
    public enum StoreChoice: Sendable, Hashable, CustomStringConvertible {
        /// A file store in `<directory>/store`.
        case file
        /// A PostgreSQL schema.
        case postgres(url: String, schema: String)

        public var description: String {
            switch self {
            case .file: "file"
            case .postgres: "postgres"
            }
        }
    }

    /// What runs the workers.
    public enum RuntimeChoice: Sendable, Hashable {
        /// `whago waha-sim` processes under the `local` runtime.
        case local
        /// Containers of the simulator image on the dockerd at `socket`, with host networking (so
        /// everything stays on 127.0.0.1).
        case docker(socket: String)
        /// Services of the simulator image on the single-node swarm of the dockerd at `socket`,
        /// with host networking.
        case swarm(socket: String)
    }

    /// What chips' sessions connect through.
    public enum ProxyChoice: Sendable, Hashable {
        /// Directly.
        case none
        /// The `dataimpulse` driver with a "gateway" on 127.0.0.1 whose sticky ports are `ports`
        /// (the test's proxy there: tinyproxy for HTTP, microsocks for SOCKS5); leases are
        /// checked through it against the rig's own `/ip`. `protocol` nil: what the engine takes.
        case dataImpulse(ports: PortRange, login: String, password: String, protocol: String? = nil)
    }

    /// How to build a rig.
    public struct Options: Sendable {
        public var runtime: RuntimeChoice
        public var proxy: ProxyChoice
        /// The rig's directory (store, workers' files); kept by ``stop()`` so a new rig can take over.
        public var directory: String
        public var store: StoreChoice
        public var ports: PortRange
        public var sessionsPerWorker: Int
        /// The simulator's `--time-scale` (5: a first QR code valid 12 s instead of 60).
        public var timeScale: Int
        /// The installation; a rig restarted on the same directory must keep it.
        public var instance: InstanceID
        public var settings: OrchestratorConfig
        public var limits: LimitsConfig
        public var logLevel: Logger.Level
        /// Whether the orchestrator's loops run (a harness may drive passes itself).
        public var runsServices: Bool
        /// Serve whago's REST API (``WhagoServer``) too; it is then the workers' webhook receiver.
        public var api: APIOptions?
        /// Workers keep their sessions in this PostgreSQL (`sessions.waha-plus.sessionsDatabaseURL`)
        /// rather than in their volume.
        public var sessionsDatabaseURL: String?
        /// WAHA's engine the workers run (`sessions.waha-plus.engine`): GOWS, NOWEB or WEBJS.
        public var engine = "GOWS"
        /// The URLs tenants may make workers fetch (default: https to public addresses only).
        public var mediaURLs = MediaURLPolicy()

        public init(directory: String, runtime: RuntimeChoice = .local, proxy: ProxyChoice = .none, store: StoreChoice = .file, ports: PortRange, sessionsPerWorker: Int = 10, timeScale: Int = 1,
                    instance: InstanceID = InstanceID("rig-\(UUID().uuidString.prefix(8).lowercased())"),
                    settings: OrchestratorConfig = OrchestratorConfig(), limits: LimitsConfig = LimitsConfig(),
                    logLevel: Logger.Level = .critical, runsServices: Bool = true, api: APIOptions? = nil) {
            self.runtime = runtime
            self.proxy = proxy
            self.directory = directory
            self.store = store
            self.ports = ports
            self.sessionsPerWorker = sessionsPerWorker
            self.timeScale = timeScale
            self.instance = instance
            self.settings = settings
            self.limits = limits
            self.logLevel = logLevel
            self.runsServices = runsServices
            self.api = api
        }
    }

    /// The REST API's settings.
    public struct APIOptions: Sendable {
        public var adminToken: String
        public var webhooks: WebhooksConfig
        /// The API's port (127.0.0.1); a free one when nil. A restarted rig passes the old one.
        public var port: Int?
        /// What time it is for the API keys' rate limits (a test may stop it, so that no token
        /// comes back while it counts requests).
        public var rateLimitClock: @Sendable () -> ContinuousClock.Instant = { .now }
        /// The token `/metrics` asks for (nil: open).
        public var metricsToken: String?

        /// - webhooks: by default, deliveries to 127.0.0.1 allowed (the tests' receivers are there).
        public init(adminToken: String = "admin-" + UUID().uuidString, webhooks: WebhooksConfig = WebhooksConfig(allowPrivateNetworks: true),
                    port: Int? = nil) {
            self.adminToken = adminToken
            self.webhooks = webhooks
            self.port = port
        }
    }

    public let options: Options
    public let orchestrator: Orchestrator
    public let store: any Store
    public let runtime: any ContainerRuntime
    public let sessions: WAHAPlusProvider
    /// The port of the webhook receiver (`http://127.0.0.1:<port>/hooks/waha/<worker>`): the API's
    /// when the rig serves it.
    public let receiverPort: Int
    /// The REST API, when ``Options/api`` asked for it (the rig always serves the workers' webhook
    /// receiver, on the same port).
    public let server: WhagoServer?
    /// The whole daemon, as `whago serve` wires it.
    public let daemon: Daemon
    /// `http://127.0.0.1:<port>` of the REST API, when served.
    public var apiURL: String? { server == nil ? nil : "http://127.0.0.1:\(receiverPort)" }
    private let receiver: LoopbackServer
    private let group: ServiceGroup
    /// The service group's run; its error, if it failed.
    private let running: Task<(any Error)?, Never>

    /// Opens the store, starts the receiver and (by default) the orchestrator's loops.
    public static func start(_ options: Options) async throws -> OrchestratorRig {
        var logger = Logger(label: "whago.rig")
        logger.logLevel = options.logLevel
        let store: any Store
        switch options.store {
        case .file: store = try await FileStore(directory: options.directory + "/store")
        case .postgres(let url, let schema): store = try await PostgresStore(url: url, schema: schema, poolSize: 8, logger: logger)
        }
        let runtime: any ContainerRuntime
        let sessions: WAHAPlusProvider
        switch options.runtime {
        case .local:
            runtime = LocalProcessRuntime(command: [WhagoBinary.path, "waha-sim", "--time-scale", "\(options.timeScale)"],
                                          workDirectory: options.directory + "/workers", restart: "never", ports: options.ports,
                                          stopGrace: .seconds(5))
            sessions = WAHAPlusProvider(engine: options.engine, requestTimeout: .seconds(20), sessionsPerWorker: options.sessionsPerWorker,
                                        sessionsDatabaseURL: options.sessionsDatabaseURL.map(Secret.init), mediaURLs: options.mediaURLs)
        case .swarm(let socket):
            // Each worker listens on its node's address only (127.0.0.1, or a second node's
            // 127.0.0.2), told by WAHA_SIM_HOST: nodes on one machine share its ports.
            runtime = SwarmRuntime(socket: socket, network: "host", restart: "any", stopGrace: .seconds(5), removeVolumes: true,
                                   healthCheckCommand: ["/usr/local/bin/whago", "probe", "http://{address}:{port}{path}"],
                                   // Not the node's address (127.0.0.1): workers are seen to be reached where their node is.
                                   healthCheckInterval: .seconds(2), nodeAddressVariable: "WAHA_SIM_HOST", ports: options.ports, host: "localhost",
                                   pollInterval: .milliseconds(500), instance: options.instance.rawValue, logger: logger)
            sessions = WAHAPlusProvider(engine: options.engine, image: TestServices.simulatorImage, requestTimeout: .seconds(20),
                                        sessionsPerWorker: options.sessionsPerWorker, environment: ["WAHA_SIM_HOST": "127.0.0.1"],
                                        sessionsDatabaseURL: options.sessionsDatabaseURL.map(Secret.init), mediaURLs: options.mediaURLs)
        case .docker(let socket):
            // The simulator image has no curl: its health check is whago's own probe.
            runtime = DockerRuntime(socket: socket, network: "host", restart: "no", stopGrace: .seconds(5), removeVolumes: true,
                                    healthCheckCommand: ["/usr/local/bin/whago", "probe", "http://127.0.0.1:{port}{path}"],
                                    healthCheckInterval: .seconds(2), ports: options.ports, instance: options.instance.rawValue, logger: logger)
            // Host networking: the simulator listens on the loopback only.
            sessions = WAHAPlusProvider(engine: options.engine, image: TestServices.simulatorImage, requestTimeout: .seconds(20),
                                        sessionsPerWorker: options.sessionsPerWorker, environment: ["WAHA_SIM_HOST": "127.0.0.1"],
                                        sessionsDatabaseURL: options.sessionsDatabaseURL.map(Secret.init), mediaURLs: options.mediaURLs)
        }
        // The proxies' probe target (`/ip`); workers' webhooks go to the daemon's own receiver.
        let router = Router()
        router.get("/ip") { _, _ in "203.0.113.7" }
        let receiver = try await LoopbackServer.start(router)
        let proxy: any ProxyProvider
        switch options.proxy {
        case .none:
            proxy = NoProxy()
        case .dataImpulse(let ports, let login, let password, let scheme):
            proxy = DataImpulseProxy(gateway: "127.0.0.1", login: login, password: Secret(password), protocol: scheme, stickyPorts: ports,
                                     probeURL: "http://127.0.0.1:\(receiver.port)/ip")
        }
        let api = options.api ?? APIOptions(webhooks: WebhooksConfig())
        let apiPort = try api.port ?? freePort()
        var server = WhagoServer.Configuration(listen: HostPort(host: "127.0.0.1", port: apiPort), adminToken: Secret(api.adminToken),
                                               limits: options.limits,
                                               // Shared by every rig, as replicas share their master key.
                                               cursorKey: Secret("whago-rig-event-cursors"), metricsToken: api.metricsToken.map(Secret.init))
        server.rateLimitClock = api.rateLimitClock
        let daemon: Daemon
        do {
            daemon = try Daemon(
                drivers: Daemon.Drivers(runtime: runtime, sessions: sessions, proxy: proxy, store: store),
                settings: Daemon.Settings(instance: options.instance, publicURL: URL(string: "http://127.0.0.1:\(apiPort)")!, limits: options.limits,
                                          orchestrator: options.settings, webhooks: api.webhooks, server: server),
                logger: logger)
        } catch {
            await receiver.stop()
            await runtime.shutdown()
            await store.shutdown()
            throw error
        }
        // Without its loops (a harness driving passes itself), the daemon still receives workers' webhooks.
        let group = ServiceGroup(services: daemon.services(background: options.runsServices), gracefulShutdownSignals: [],
                                 cancellationSignals: [], logger: logger)
        let running = Task<(any Error)?, Never> {
            do {
                try await group.run()
                return nil
            } catch {
                return error
            }
        }
        // Listening, or the server failed first (its address was taken: the group stops).
        if await daemon.waitUntilListening() == nil {
            let failure = await running.value
            await receiver.stop()
            await runtime.shutdown()
            await store.shutdown()
            throw failure ?? WhagoError(.unavailable, "the rig's services stopped before the API listened")
        }
        return OrchestratorRig(options: options, daemon: daemon, sessions: sessions, receiver: receiver, apiPort: apiPort, group: group, running: running)
    }

    private init(options: Options, daemon: Daemon, sessions: WAHAPlusProvider, receiver: LoopbackServer, apiPort: Int, group: ServiceGroup,
                 running: Task<(any Error)?, Never>) {
        self.options = options
        self.daemon = daemon
        self.orchestrator = daemon.orchestrator
        self.store = daemon.drivers.store
        self.runtime = daemon.drivers.runtime
        self.sessions = sessions
        self.receiver = receiver
        self.server = options.api == nil ? nil : daemon.server
        self.receiverPort = apiPort
        self.group = group
        self.running = running
    }
    /// Stops as `whago serve` stops on SIGTERM: loops shut down gracefully, workers left running.
    public func stop() async {
        await group.triggerGracefulShutdown()
        _ = await running.value
        await orchestrator.leadership.resign()
        await receiver.stop()
        await runtime.shutdown()
        await store.shutdown()
    }

    /// Removes every worker of the rig's installation from the runtime (a test's clean-up).
    public func removeWorkers() async {
        let handles = (try? await runtime.list(labels: [WorkerLabel.instance: options.instance.rawValue])) ?? []
        for handle in handles {
            try? await runtime.stop(handle, grace: .seconds(2))
            try? await runtime.remove(handle)
        }
    }

    /// How a test reaches a worker's API (the simulator's `/_sim/…` controls included).
    public func endpoint(of worker: Worker) -> WorkerEndpoint { WorkerEndpoint(worker) }

    /// Waits until the chip satisfies `condition` (`timeout` at most); returns it.
    @discardableResult
    public func waitForChip(_ id: ChipID, _ what: String, timeout: Duration = .seconds(60),
                            until condition: @Sendable (Chip?) -> Bool) async throws -> Chip? {
        let deadline = ContinuousClock.now + timeout
        var last: Chip?
        while true {
            last = try await store.chip(id)
            if condition(last) { return last }
            guard ContinuousClock.now < deadline else {
                throw WhagoError(.timedOut, "chip \(id) never \(what) within \(timeout); last: \(last.map { "\($0.status.rawValue) on \($0.worker?.rawValue ?? "-")" } ?? "gone")")
            }
            try await Task.sleep(for: .milliseconds(25))
        }
    }

    /// Waits until the chip's status is `status`.
    @discardableResult
    public func waitForStatus(_ id: ChipID, _ status: ChipStatus, timeout: Duration = .seconds(60)) async throws -> Chip {
        try await waitForChip(id, "became \(status.rawValue)", timeout: timeout) { $0?.status == status }!
    }
}

