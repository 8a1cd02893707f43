public import Foundation
public import Logging
public import Orchestrator
public import ServiceLifecycle
public import WhagoCore
public import WhagoServer

/// whago in one process, wired once: the orchestrator with all of its background services (health,
/// reconciliation, reaping, retention, the queue of workers' webhooks, tenant webhook delivery), and
/// the HTTP server in front of it, in the order one ServiceGroup starts and stops them.
///
/// `whago serve` builds one from the configuration's drivers; the test rig and the benchmarks from
/// the drivers they choose. Nothing else wires the daemon.
public final class Daemon: Sendable {
    /// The four drivers, built.
    public struct Drivers: Sendable {
        public var runtime: any ContainerRuntime
        public var sessions: any SessionProvider
        public var proxy: any ProxyProvider
        public var store: any Store

        public init(runtime: any ContainerRuntime, sessions: any SessionProvider, proxy: any ProxyProvider, store: any Store) {
            self.runtime = runtime
            self.sessions = sessions
            self.proxy = proxy
            self.store = store
        }
    }

    /// Everything but the drivers.
    public struct Settings: Sendable {
        /// The installation (`server.instance`).
        public var instance: InstanceID
        /// Where workers reach whago's webhook receiver (`server.publicURL`).
        public var publicURL: URL
        public var limits: LimitsConfig
        public var orchestrator: OrchestratorConfig
        public var webhooks: WebhooksConfig
        /// `store.eventRetention`; nil keeps events for ever.
        public var eventRetention: Duration?
        /// The HTTP server's settings; nil runs no server (a harness driving the orchestrator).
        public var server: WhagoServer.Configuration?

        public init(instance: InstanceID, publicURL: URL, limits: LimitsConfig = LimitsConfig(), orchestrator: OrchestratorConfig = OrchestratorConfig(),
                    webhooks: WebhooksConfig = WebhooksConfig(), eventRetention: Duration? = nil, server: WhagoServer.Configuration?) {
            self.instance = instance
            self.publicURL = publicURL
            self.limits = limits
            self.orchestrator = orchestrator
            self.webhooks = webhooks
            self.eventRetention = eventRetention
            self.server = server
        }

        /// The settings of a configuration file, with the secrets `serve` resolved (generated or read).
        public init(_ config: WhagoConfig, instance: InstanceID, adminToken: Secret, masterKey: Secret) {
            self.init(instance: instance, publicURL: config.server.publicURL, limits: config.limits, orchestrator: config.orchestrator,
                      webhooks: config.webhooks,
                      eventRetention: (config.store.eventRetention ?? DriverSelection<any Store>.defaultEventRetention).duration,
                      server: WhagoServer.Configuration(
                        listen: config.server.listen, adminToken: adminToken, limits: config.limits, cursorKey: masterKey,
                        metricsToken: config.server.metricsToken, trustedProxies: config.server.trustedProxies))
        }
    }

    public let drivers: Drivers
    public let orchestrator: Orchestrator
    /// The HTTP server, unless ``Settings/server`` was nil.
    public let server: WhagoServer?
    public let metrics: ServerMetrics

    /// Builds the orchestrator and the server; nothing runs before ``services`` do.
    public init(drivers: Drivers, settings: Settings, metrics: ServerMetrics = ServerMetrics(), logger: Logger) throws {
        self.drivers = drivers
        self.metrics = metrics
        // Tenants' webhooks go out only where whago serves its API (a harness without one keeps
        // its events in the log).
        let transport: (any TenantWebhookTransport)? = settings.server == nil ? nil : TenantWebhookPoster(settings.webhooks)
        var configuration = Orchestrator.Configuration(
            runtime: drivers.runtime, sessions: drivers.sessions, proxy: drivers.proxy, store: drivers.store, instance: settings.instance,
            publicURL: settings.publicURL, limits: settings.limits, settings: settings.orchestrator, webhooks: settings.webhooks,
            tenantWebhooks: transport, eventRetention: settings.eventRetention, logger: logger)
        configuration.observeDelivery = { outcome, duration in metrics.delivery(outcome, duration: duration) }
        let orchestrator = Orchestrator(configuration)
        self.orchestrator = orchestrator
        self.server = try settings.server.map { server in
            try WhagoServer(server, orchestrator: orchestrator, store: drivers.store, metrics: metrics, logger: logger)
        }
    }

    /// The services in ServiceGroup order: the orchestrator's, then the HTTP server (stopped first).
    /// - Parameter background: false runs only what receives workers' webhooks (the queue and the
    ///   server), for a harness that drives the orchestrator's passes itself.
    public func services(background: Bool = true) -> [any Service] {
        let orchestration = background ? orchestrator.services : [orchestrator.webhookIngest]
        return orchestration + (server?.services ?? [])
    }

    /// The port the HTTP server listens on, once it does; nil when it could not (its service
    /// failed), or when there is no server.
    public func waitUntilListening() async -> Int? {
        await server?.waitUntilListening()
    }
}
