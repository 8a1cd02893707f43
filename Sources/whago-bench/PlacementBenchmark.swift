import Foundation
import Logging
import NoProxy
import Orchestrator
import PostgresNIO
import PostgresStore
import ServiceLifecycle
import Synchronization
import WhagoCore
import WhagoDaemon
import WhagoTesting

/// `whago-bench placement --postgres URL [--chips N] [--nodes M] [--per-worker K] [--ports-per-node P]`:
/// N chips (default 10,000) of N/K tenants placed by the orchestrator on a PostgreSQL store, their
/// workers placed by whago on M simulated nodes (default 1,000) of a runtime double that only
/// records (no process, no network), each node with its own pool of P worker ports (default 10),
/// their sessions by a provider double that answers at once. Prints placement decisions per second
/// (the chip creations: each places the chip, and every K-th leases a port on the least-loaded
/// node), the time until every chip is provisioned (SCAN_QR_CODE), how evenly workers spread over
/// the nodes, PostgreSQL transactions per chip (from pg_stat_database), and how long a replica
/// takes to lead after the leader died.
enum PlacementBenchmark {
    static func run(_ arguments: [String]) async throws {
        var options = arguments[...]
        var url: String?
        var chips = 10_000, nodes = 1_000, perWorker = 10, portsPerNode = 10, concurrency = 32
        while let option = options.popFirst() {
            switch option {
            case "--postgres": url = options.popFirst()
            case "--chips": chips = Int(options.popFirst() ?? "") ?? chips
            case "--nodes": nodes = Int(options.popFirst() ?? "") ?? nodes
            case "--per-worker": perWorker = Int(options.popFirst() ?? "") ?? perWorker
            case "--ports-per-node": portsPerNode = Int(options.popFirst() ?? "") ?? portsPerNode
            case "--concurrency": concurrency = Int(options.popFirst() ?? "") ?? concurrency
            default: throw BenchError("unknown option \(option); usage: placement --postgres URL [--chips N] [--nodes M] [--per-worker K] [--ports-per-node P]")
            }
        }
        guard let url else { throw BenchError("placement needs --postgres URL") }
        var logger = Logger(label: "bench.placement")
        logger.logLevel = .error
        let schema = "bench_placement_" + UUID().uuidString.prefix(8).lowercased()
        let store = try await PostgresStore(url: url, schema: schema, poolSize: 16, logger: logger)
        let tenants = max(1, chips / perWorker)
        let runtime = SimulatedNodesRuntime(nodes: nodes, ports: try PortRange(20_000, 20_000 + portsPerNode - 1))
        // The daemon as `whago serve` wires it, without an HTTP server: the figure is placement's.
        let daemon = try Daemon(
            drivers: Daemon.Drivers(runtime: runtime, sessions: InstantSessions(perWorker: perWorker), proxy: NoProxy(), store: store),
            settings: Daemon.Settings(instance: InstanceID("bench-placement"), publicURL: URL(string: "http://127.0.0.1:1")!,
                                      limits: LimitsConfig(chipsPerTenant: perWorker), server: nil),
            logger: logger)
        let orchestrator = daemon.orchestrator

        var owners: [TenantID] = []
        for index in 0..<tenants {
            owners.append(try await orchestrator.tenants.create(TenantService.Settings(name: "tenant \(index)")).tenant.id)
        }
        let before = try await transactions(url)
        let started = ContinuousClock.now
        let created = try await withThrowingTaskGroup(of: ChipID.self, returning: [ChipID].self) { group in
            var next = 0, ids: [ChipID] = []
            func add() {
                let tenant = owners[next % tenants], number = next / tenants
                group.addTask { try await orchestrator.chips.create(ChipService.Request(name: "chip \(number)"), for: tenant).id }
                next += 1
            }
            while next < min(concurrency, chips) { add() }
            while let id = try await group.next() {
                ids.append(id)
                if next < chips { add() }
            }
            return ids
        }
        let placed = ContinuousClock.now - started
        // Provisioned: every chip SCAN_QR_CODE (its worker "launched", its session ensured).
        while true {
            var waiting = 0
            for tenant in owners {
                waiting += try await store.chips(of: tenant).filter { $0.status != .scanQRCode }.count
            }
            if waiting == 0 { break }
            try await Task.sleep(for: .milliseconds(200))
        }
        let provisioned = ContinuousClock.now - started
        let after = try await transactions(url)
        let workers = try await store.workers()
        let perNode = Dictionary(grouping: workers, by: \.host).mapValues(\.count)
        let launched = runtime.running.values
        let pinned = launched.filter { launch in workers.contains { $0.name == launch.handle.name && $0.host == launch.node?.id } }.count

        print(String(format: "placement: %d chips of %d tenants on %d workers over %d simulated nodes with %d ports each, PostgreSQL store",
                     created.count, tenants, workers.count, nodes, portsPerNode))
        print(String(format: "placement: %d nodes used, %d to %d workers per node; %d distinct ports leased; %d of %d workers launched on the node of their lease",
                     perNode.count, perNode.values.min() ?? 0, perNode.values.max() ?? 0, Set(workers.map(\.port)).count, pinned, launched.count))
        print(String(format: "placement: %.0f placement decisions/s (%.2f s for all), provisioned in %.2f s (%.0f chips/s)",
                     Double(created.count) / placed.seconds, placed.seconds, provisioned.seconds, Double(created.count) / provisioned.seconds))
        print(String(format: "placement: %.1f PostgreSQL transactions per chip (placement, provisioning, status changes and their events)",
                     Double(after - before) / Double(max(created.count, 1))))
        let takeovers = try await takeoverTimes(store: store, logger: logger, rounds: 5, ttl: .seconds(2))
        print(String(format: "placement: a replica leads %.2f s after the leader died (median of %d; max %.2f s; leaderLeaseTTL 2s, renewed every TTL/3)",
                     median(takeovers), takeovers.count, takeovers.max() ?? 0))
        await store.shutdown()
    }

    /// Seconds from the leader's last renewal (then it dies: no resignation) to another replica leading.
    static func takeoverTimes(store: any Store, logger: Logger, rounds: Int, ttl: Duration) async throws -> [Double] {
        var times: [Double] = []
        for round in 0..<rounds {
            let leader = Leadership(store: store, instance: InstanceID("takeover-\(round)"), ttl: ttl, logger: logger)
            let follower = Leadership(store: store, instance: InstanceID("takeover-\(round)"), ttl: ttl, logger: logger)
            while await !leader.attempt() { try await Task.sleep(for: ttl / 3) }
            let died = ContinuousClock.now
            // The follower tries as Leadership.run does, every TTL/3.
            while await !follower.attempt() { try await Task.sleep(for: ttl / 3) }
            times.append((ContinuousClock.now - died).seconds)
            await follower.resign()
        }
        return times
    }

    /// Committed and rolled-back transactions of the database so far.
    static func transactions(_ url: String) async throws -> Int {
        guard let components = URLComponents(string: url), let host = components.host, let user = components.user else {
            throw BenchError("--postgres must be postgres://user:password@host:port/database")
        }
        let configuration = PostgresConnection.Configuration(host: host, port: components.port ?? 5432, username: user,
                                                             password: components.password, database: components.path.split(separator: "/").first.map(String.init),
                                                             tls: .disable)
        let connection = try await PostgresConnection.connect(configuration: configuration, id: 1, logger: Logger(label: "bench.pg"))
        defer { Task { try? await connection.close() } }
        // Statistics reach the view when backends report them (about every second).
        try await Task.sleep(for: .seconds(2))
        try await connection.query("SELECT pg_stat_clear_snapshot()", logger: Logger(label: "bench.pg"))
        let rows = try await connection.query("SELECT (xact_commit + xact_rollback)::bigint FROM pg_stat_database WHERE datname = current_database()",
                                              logger: Logger(label: "bench.pg"))
        for try await count in rows.decode(Int.self) { return count }
        return 0
    }

    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        return sorted.isEmpty ? 0 : sorted[sorted.count / 2]
    }
}
