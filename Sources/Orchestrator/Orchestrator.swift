public import Foundation
public import Logging
public import ServiceLifecycle
public import WhagoCore

/// Ties the four drivers together: chips placed on per-tenant workers, the port pool, health,
/// cleanup and crash-safe reconciliation.
///
/// It depends on WhagoCore's protocols only. The REST API calls ``chips``, ``tenants``,
/// ``webhooks`` and ``webhookIngest``; the daemon runs ``services`` in its one ServiceGroup:
/// leadership, reconciler, health monitor, reaper, the drain of background steps (shut down on
/// SIGTERM: no new work, running steps finished or left to the next start's reconciler; workers
/// keep running and are adopted then), the event log's retention, the queue of workers' webhooks
/// and the delivery of tenants' webhooks — all of whago's background work.
public final class Orchestrator: Sendable {
    public let chips: ChipService
    public let tenants: TenantService
    public let workers: WorkerService
    public let events: EventService
    public let webhooks: WebhookIntake
    public let leadership: Leadership
    public let healthMonitor: HealthMonitor
    public let reaper: Reaper
    public let reconciler: Reconciler
    /// Workers' verified webhooks, applied in the background.
    public let webhookIngest: WorkerWebhookIngest
    /// Tenants' webhooks, when a transport was given.
    public let delivery: TenantDelivery?
    /// What the orchestrator did and refused, counted.
    public let counters: OrchestratorCounters
    let retention: EventRetention?
    let background: BackgroundWork
    let launcher: WorkerLauncher

    /// Everything the orchestrator is given.
    public struct Configuration: Sendable {
        public var runtime: any ContainerRuntime
        public var sessions: any SessionProvider
        public var proxy: any ProxyProvider
        public var store: any Store
        public var instance: InstanceID
        /// The URL workers reach whago's webhook receiver at (`server.publicURL`).
        public var publicURL: URL
        public var limits: LimitsConfig
        public var settings: OrchestratorConfig
        /// How tenants' webhooks are delivered (`webhooks.*`).
        public var webhooks: WebhooksConfig
        /// What sends tenants' webhooks; nil: events stay in the log (SSE and polling only).
        public var tenantWebhooks: (any TenantWebhookTransport)?
        /// Each settled delivery: `delivered`, `failed` or `dead_lettered`, and its duration (metrics).
        public var observeDelivery: @Sendable (_ outcome: String, _ duration: Duration) -> Void = { _, _ in }
        /// How long delivered and dead-lettered events are kept (`store.eventRetention`); nil: for ever.
        public var eventRetention: Duration?
        public var logger: Logger

        public init(runtime: any ContainerRuntime, sessions: any SessionProvider, proxy: any ProxyProvider, store: any Store,
                    instance: InstanceID, publicURL: URL, limits: LimitsConfig = LimitsConfig(), settings: OrchestratorConfig = OrchestratorConfig(),
                    webhooks: WebhooksConfig = WebhooksConfig(), tenantWebhooks: (any TenantWebhookTransport)? = nil,
                    eventRetention: Duration? = nil, logger: Logger) {
            self.webhooks = webhooks
            self.tenantWebhooks = tenantWebhooks
            self.eventRetention = eventRetention
            self.runtime = runtime
            self.sessions = sessions
            self.proxy = proxy
            self.store = store
            self.instance = instance
            self.publicURL = publicURL
            self.limits = limits
            self.settings = settings
            self.logger = logger
        }
    }

    public init(_ configuration: Configuration) {
        var logger = configuration.logger
        logger[metadataKey: "component"] = "orchestrator"
        let counters = OrchestratorCounters()
        let context = OrchestratorContext(
            runtime: configuration.runtime, sessions: configuration.sessions, proxy: configuration.proxy, store: configuration.store,
            instance: configuration.instance, publicURL: configuration.publicURL, limits: configuration.limits,
            settings: configuration.settings, logger: logger, counters: counters)
        let transitions = ChipTransitions(context: context, queue: KeyedSerialQueue())
        let launcher = WorkerLauncher(context: context)
        let placement = Placement(context: context)
        let provisioner = Provisioner(context: context, launcher: launcher, transitions: transitions, placement: placement)
        let background = BackgroundWork()
        let leadership = Leadership(store: configuration.store, instance: configuration.instance,
                                    ttl: configuration.settings.leaderLeaseTTL.duration, logger: logger)
        let reaper = Reaper(context: context, leadership: leadership, transitions: transitions)
        self.counters = counters
        self.background = background
        self.launcher = launcher
        self.leadership = leadership
        self.reaper = reaper
        self.chips = ChipService(context: context, placement: placement, provisioner: provisioner, transitions: transitions,
                                 background: background, tenantQueue: KeyedSerialQueue(),
                                 pacer: SendPacer(limits: configuration.limits.sending, store: configuration.store))
        self.tenants = TenantService(context: context)
        self.workers = WorkerService(context: context)
        self.events = EventService(store: configuration.store)
        let intake = WebhookIntake(context: context, transitions: transitions)
        self.webhooks = intake
        self.webhookIngest = WorkerWebhookIngest(intake: intake, capacity: Int(configuration.limits.workerWebhooks.queueBytes.bytes), logger: logger)
        self.delivery = configuration.tenantWebhooks.map { transport in
            TenantDelivery(store: configuration.store, leadership: leadership, settings: configuration.webhooks, transport: transport,
                           observe: configuration.observeDelivery, logger: logger)
        }
        self.retention = configuration.eventRetention.map { retention in
            EventRetention(store: configuration.store, retention: retention, interval: .seconds(600), logger: logger)
        }
        self.healthMonitor = HealthMonitor(context: context, leadership: leadership, launcher: launcher, provisioner: provisioner,
                                           transitions: transitions)
        self.reconciler = Reconciler(context: context, leadership: leadership, launcher: launcher, provisioner: provisioner,
                                     transitions: transitions, reaper: reaper)
    }

    /// The long-running loops, in the order a ServiceGroup must start them. It stops them in
    /// reverse, after whatever comes later in the group (the HTTP server): tenant delivery first,
    /// then the queued workers' webhooks are applied, then retention, background steps, the
    /// health and reconciliation loops, and leadership last.
    public var services: [any Service] {
        [leadership, reconciler, healthMonitor, reaper, Drain(background: background, logger: reconciler.context.logger)]
            + (retention.map { [$0] } ?? []) + [webhookIngest] + (delivery.map { [$0] } ?? [])
    }

    /// Background steps running now (provisioning of new chips).
    public var backgroundSteps: Int { background.running }

    /// On graceful shutdown: no new chips, running steps given a few seconds, the rest left to the next start.
    struct Drain: Service {
        let background: BackgroundWork
        let logger: Logger

        func run() async throws {
            try? await gracefulShutdown()
            let running = background.running
            if running > 0 { logger.info("finishing \(running) background steps before stopping") }
            await background.drain(grace: .seconds(5))
        }
    }
}
