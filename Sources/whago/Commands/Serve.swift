import ArgumentParser
import Foundation
import Logging
import Orchestrator
import ServiceLifecycle
import Metrics
import UnixSignals
import WhagoCore
import WhagoDaemon
import WhagoServer
import YAMLConfig

/// `whago serve`: the daemon.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the daemon until SIGTERM or SIGINT.",
        discussion: """
            Loads the configuration, builds the selected drivers, runs their health checks (refusing to \
            start on an error), logs a summary with secrets redacted, serves the REST API (/api/v1, \
            /openapi.json) and the web console (/) on server.listen, and runs until SIGTERM or SIGINT, \
            then shuts down cleanly. With no server.adminToken, a token is generated into \
            <server.dataDir>/admin-token (mode 0600) and its path is logged, never the token.
            """
    )

    @OptionGroup var configOptions: ConfigOptions
    @OptionGroup var logOptions: LogOptions

    func run() async throws {
        let logger = LogSetup.bootstrap(level: logOptions.logLevel)
        let config: WhagoConfig
        do {
            config = try ConfigLoader().load(path: configOptions.config, overrides: configOptions.overrides)
        } catch {
            for line in error.errors { logger.error("invalid configuration: \(line)") }
            throw ExitCode(1)
        }
        logger.info("starting whago \(WhagoVersion.current)", metadata: ["config": "\(configOptions.config ?? ConfigLoader.embeddedSource)"])
        // Before anything is created, opened or locked: a busy address stops whago with nothing written.
        if let problem = ListenCheck.problem(config.server.listen) {
            logger.error("not starting: \(problem); stop what listens there or choose another server.listen")
            throw ExitCode(1)
        }

        let dataDirectory: DataDirectory
        let context: DriverContext
        let adminToken: Secret
        let masterKey: Secret
        do {
            dataDirectory = try DataDirectory(path: config.server.dataDir)
            if let configured = config.server.masterKey {
                masterKey = configured
            } else {
                let (key, generated) = try dataDirectory.masterKey()
                masterKey = key
                logger.notice("""
                    \(generated ? "generated a" : "using the") master key in \(dataDirectory.masterKeyPath) (mode 0600): \
                    it seals the store's secrets; back it up, or set server.masterKey
                    """)
            }
            context = DriverContext(instance: try config.server.instance.map(InstanceID.init) ?? dataDirectory.instanceID(),
                                    dataDirectory: dataDirectory.path, logger: logger,
                                    sealer: SecretSealer(masterKey: masterKey))
            if let configured = config.server.adminToken {
                adminToken = configured
            } else {
                let (token, generated) = try dataDirectory.adminToken()
                adminToken = token
                logger.notice("\(generated ? "generated an" : "using the") admin token in \(dataDirectory.adminTokenPath) (mode 0600); set server.adminToken to choose one")
            }
        } catch {
            logger.error("cannot prepare the data directory: \(error)")
            throw ExitCode(1)
        }

        for (section, summary) in config.redactedSummary {
            logger.info("config \(section): \(summary)")
        }

        let drivers = await DriverSet.build(config, context: context)
        for check in drivers.checks {
            let metadata: Logger.Metadata = ["kind": "\(check.kind)", "driver": "\(check.name)"]
            let line = "\(check.kind) driver '\(check.name)': \(check.report)"
            switch check.report.status {
            case .ok: logger.info("\(line)", metadata: metadata)
            case .warning: logger.warning("\(line)", metadata: metadata)
            case .error: logger.error("\(line)", metadata: metadata)
            }
        }
        guard drivers.worst != .error else {
            logger.error("not starting: a driver failed its startup check (run `whago doctor` for details)")
            await drivers.shutdown()
            throw ExitCode(1)
        }

        guard let runtime = drivers.runtime, let sessions = drivers.sessions, let proxy = drivers.proxy, let store = drivers.store else {
            logger.error("not starting: a driver could not be built")
            await drivers.shutdown()
            throw ExitCode(1)
        }
        if let warning = runtime.webhookReachability(publicURL: config.server.publicURL, listen: config.server.listen) {
            logger.warning("workers may not reach whago's webhook receiver: \(warning)")
        }
        let daemon: Daemon
        do {
            let metrics = ServerMetrics()
            MetricsSystem.bootstrap(metrics.factory)
            daemon = try Daemon(drivers: Daemon.Drivers(runtime: runtime, sessions: sessions, proxy: proxy, store: store),
                                settings: Daemon.Settings(config, instance: context.instance, adminToken: adminToken, masterKey: masterKey),
                                metrics: metrics, logger: logger)
        } catch {
            logger.error("not starting: the API cannot be set up: \(error)")
            await drivers.shutdown()
            throw ExitCode(1)
        }

        // A ServiceGroup shuts its services down in reverse order: the drivers' (the store's
        // connection pool) come first so that they stop last, after everything that writes to it;
        // then the daemon's (the HTTP server stops first, the orchestrator's leadership last).
        let services: [any Service] = drivers.built.reversed().flatMap(\.services) + daemon.services()
            + [RunningLog(logger: logger, instance: context.instance, daemon: daemon)]
        let group = ServiceGroup(
            services: services, gracefulShutdownSignals: [.sigterm, .sigint], cancellationSignals: [], logger: logger
        )
        do {
            try await group.run()
        } catch {
            logger.error("stopped on an error: \((error as? WhagoError)?.message ?? "\(error)")")
            await drivers.shutdown()
            throw ExitCode(1)
        }
        await drivers.shutdown()
        logger.info("stopped cleanly")
    }
}

/// Logs that whago runs once its HTTP server listens and, on SIGTERM or SIGINT, that it stops.
/// (When a service fails, the group is cancelled: this says nothing more, the failure is what
/// `serve` logs.)
struct RunningLog: Service {
    let logger: Logger
    let instance: InstanceID
    let daemon: Daemon

    func run() async throws {
        guard await daemon.waitUntilListening() != nil else { return }
        logger.info("whago is running; SIGTERM or SIGINT stops it", metadata: ["instance": "\(instance)", "pid": "\(getpid())"])
        try? await gracefulShutdown()
        guard Task.isShuttingDownGracefully else { return }
        logger.info("shutting down")
    }
}
