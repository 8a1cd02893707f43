public import WhagoCore
import Foundation
public import Logging
import PostgresNIO
import PostgresSupport
public import ServiceLifecycle

/// The `postgres` store: whago's state in PostgreSQL, for production and for several daemons.
///
/// Records are JSON documents beside the columns that carry the rules — primary keys, `UNIQUE
/// (tenant, name)` for chips, `UNIQUE (host, port)` for port leases, `UNIQUE (provider,
/// sticky_port)` for proxy leases, foreign keys and checks — so PostgreSQL itself enforces them.
/// Multi-record changes are transactions. Versioned migrations run at startup in one transaction
/// under an advisory lock, so daemons starting together migrate once. The client reconnects by
/// itself: during an outage calls fail with `unavailable`, and succeed again once the server is back.
public final class PostgresStore: Store {
    /// The registration entry.
    public static let driver = Driver<any Store>(
        kind: .store, name: "postgres", aliases: ["postgresql"],
        summary: "whago's state in PostgreSQL (production; several daemons)",
        sampleConfig: PostgresConfiguration.sample,
        configuration: PostgresConfiguration.self
    ) { configuration, context in
        // The daemon runs the client in its service group (see `services`).
        try await PostgresStore(url: configuration.url.revealed, schema: configuration.schema, poolSize: configuration.poolSize,
                                connectTimeout: configuration.connectTimeout.duration, sealer: context.sealer, runsClient: false,
                                logger: context.logger)
    } inspect: { configuration, context in
        await inspect(url: configuration.url.revealed, schema: configuration.schema, sealer: context.sealer,
                      timeout: configuration.connectTimeout.duration, logger: context.logger)
    }

    let client: PostgresClient
    let schema: String
    let logger: Logger
    /// Seals the secrets in stored records; nil stores them as they are.
    let sealer: SecretSealer?
    /// How long one call may wait for PostgreSQL before it fails with `unavailable` (the client
    /// would otherwise wait for a connection until the server comes back).
    let callTimeout: Duration
    /// The client's `run()` when the store runs it itself (tests, embedding); nil when the daemon's
    /// service group runs it, as one of ``services``.
    private let running: Task<Void, Never>?
    let endpoint: PostgresURL
    let connectTimeout: Duration

    /// Connects, and migrates the schema.
    /// - Parameter url: `postgres://user:password@host:port/database` (or `?host=/socket/dir`); it is
    ///   never logged or put in an error.
    /// - Parameter sealer: seals the secrets the store keeps; a schema written with one opens only
    ///   with the same master key (`unauthorized` otherwise), and never without one.
    public convenience init(url: String, schema: String = "whago", poolSize: Int = 10, connectTimeout: Duration = .seconds(10),
                            sealer: SecretSealer? = nil, logger: Logger) async throws {
        try await self.init(url: url, schema: schema, poolSize: poolSize, connectTimeout: connectTimeout, sealer: sealer, runsClient: true, logger: logger)
    }

    /// - Parameter runsClient: whether the store runs its connection pool itself; when false, the
    ///   pool is one of ``services`` and nothing but the start-up work (done on a connection of its
    ///   own) runs before the daemon's service group starts it.
    init(url: String, schema: String, poolSize: Int, connectTimeout: Duration, sealer: SecretSealer?, runsClient: Bool,
         logger: Logger) async throws {
        if let problem = PostgresStore.schemaProblem(schema) { throw WhagoError(.invalidConfig, problem) }
        let endpoint = try PostgresURL.parse(url)
        var configuration = endpoint.clientConfiguration()
        configuration.options.maximumConnections = max(1, poolSize)
        configuration.options.connectTimeout = .milliseconds(Int64(connectTimeout.seconds * 1000))
        self.client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        self.schema = schema
        self.logger = logger
        self.sealer = sealer
        self.endpoint = endpoint
        self.connectTimeout = connectTimeout
        self.callTimeout = connectTimeout + .seconds(5)
        let client = self.client
        self.running = runsClient ? Task { await client.run() } : nil
        // Start-up work on a connection of its own, so that a wrong password or an unreachable
        // server is a clear error now, and nothing waits for the pool.
        do {
            try await withConnection { connection in
                try await self.migrate(on: connection)
                try await self.checkMasterKey(on: connection)
            }
        } catch {
            running?.cancel()
            throw error
        }
    }

    /// Runs `body` on a short-lived connection of its own (start-up work and health checks, which
    /// happen before the daemon's service group runs the pool), within the call deadline.
    func withConnection<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        let endpoint = self.endpoint
        let (timeout, logger) = (connectTimeout, self.logger)
        do {
            return try await withDeadline {
                try await endpoint.withConnection(timeout: timeout, logger: logger, body)
            }
        } catch {
            let reason = Self.translate(error)
            throw WhagoError(reason.code, "PostgreSQL at \(endpoint.endpoint): \(reason.message)")
        }
    }

    /// The pool, for the daemon's service group when the store does not run it itself.
    public var services: [any Service] { running == nil ? [client] : [] }

    /// Runs `body`, failing with `unavailable` when it takes longer than ``callTimeout``.
    func withDeadline<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) async throws -> T {
        let timeout = callTimeout
        return try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await body() }
            group.addTask {
                try await Task.sleep(for: timeout)
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let value = first else {
                throw WhagoError(.unavailable, "PostgreSQL did not answer within \(timeout); retry later")
            }
            return value
        }
    }

    deinit { running?.cancel() }

    public func shutdown() async {
        running?.cancel()
    }

    public func healthCheck() async -> HealthReport {
        do {
            let table = self.table("schema_migrations")
            let logger = self.logger
            let version = try await withConnection { connection in
                try await connection.query("SELECT max(version) FROM \(unescaped: table)", logger: logger).decode(Int.self)
                    .reduce(into: [Int]()) { $0.append($1) }.first
            }
            return .ok("PostgreSQL reachable, schema \(schema) at migration \(version ?? 0)")
        } catch {
            return .error(Self.translate(error).message, fix: "check store.postgres.url and that the server accepts connections")
        }
    }

    /// `"schema".name`.
    func table(_ name: String) -> String { "\"\(schema)\".\(name)" }

    static func isIdentifier(_ text: String) -> Bool {
        guard let first = text.first, first.isLowercase || first == "_" else { return false }
        return text.count <= 63 && text.allSatisfy { ($0.isASCII && ($0.isLowercase || $0.isNumber)) || $0 == "_" }
    }

    /// Why `name` cannot be whago's schema, or nil when it can: an identifier that needs no
    /// quoting (63 characters at most), and not one of PostgreSQL's own (`pg_…` names are refused
    /// by the server itself; `information_schema` is the catalog's).
    static func schemaProblem(_ name: String) -> String? {
        guard isIdentifier(name) else {
            return "schema '\(name)' must be 1 to 63 lower-case letters, digits and _, starting with a letter or _"
        }
        if name.hasPrefix("pg_") || name == "information_schema" {
            return "schema '\(name)' is PostgreSQL's own (pg_… and information_schema are reserved): choose another, e.g. whago"
        }
        return nil
    }
}

/// `store.postgres`.
struct PostgresConfiguration: DriverConfiguration {
    /// `postgres://user:password@host:5432/db`; it holds a password, so it is a secret.
    var url: Secret
    var schema: String
    var poolSize: Int
    var connectTimeout: TimeSpan

    enum CodingKeys: String, CodingKey, CaseIterable {
        case url, schema, poolSize, connectTimeout
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        url = try container.decode(Secret.self, forKey: .url)
        schema = try container.decodeIfPresent(SchemaName.self, forKey: .schema)?.name ?? "whago"
        poolSize = try container.decodeIfPresent(PositiveInt.self, forKey: .poolSize)?.value ?? 10
        connectTimeout = try container.decodeIfPresent(TimeSpan.self, forKey: .connectTimeout) ?? .seconds(10)
    }

    static let sample = """
        postgres:
          url: ${WHAGO_DATABASE_URL}     # postgres://user:password@host:5432/whago (or file:/run/secrets/db-url)
                                         # TLS: ?sslmode=disable|prefer|require|verify-ca|verify-full[&sslrootcert=/path/ca.pem];
                                         # default require for a host that is not loopback, verified when sslrootcert is given
          schema: whago                  # tables live in this schema (created if missing)
          poolSize: 10                   # connections
          connectTimeout: 10s
        """
}

/// A PostgreSQL schema name whago can use unquoted-safe.
struct SchemaName: Decodable {
    let name: String

    init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        if let problem = PostgresStore.schemaProblem(text) { throw ConfigValueError(problem) }
        name = text
    }
}
