public import WhagoCore
import Foundation
import Logging
import PostgresNIO

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
        try await PostgresStore(url: configuration.url.revealed, schema: configuration.schema, poolSize: configuration.poolSize,
                                connectTimeout: configuration.connectTimeout.duration, sealer: context.sealer, logger: context.logger)
    }

    let client: PostgresClient
    let schema: String
    let logger: Logger
    /// Seals the secrets in stored records; nil stores them as they are.
    let sealer: SecretSealer?
    /// How long one call may wait for PostgreSQL before it fails with `unavailable` (the client
    /// would otherwise wait for a connection until the server comes back).
    let callTimeout: Duration
    /// The client's `run()`: the store's queries need it, from the first (the migrations) on, so the
    /// store runs it itself for its whole life rather than waiting for the daemon's service group.
    private let running: Task<Void, Never>

    /// Connects, and migrates the schema.
    /// - Parameter url: `postgres://user:password@host:port/database` (or `?host=/socket/dir`); it is
    ///   never logged or put in an error.
    /// - Parameter sealer: seals the secrets the store keeps; a schema written with one opens only
    ///   with the same master key (`unauthorized` otherwise), and never without one.
    public init(url: String, schema: String = "whago", poolSize: Int = 10, connectTimeout: Duration = .seconds(10),
                sealer: SecretSealer? = nil, logger: Logger) async throws {
        guard PostgresStore.isIdentifier(schema) else {
            throw WhagoError(.invalidConfig, "schema '\(schema)' must be lower-case letters, digits and _")
        }
        let endpoint = try PostgresURL.parse(url)
        // One direct connection first, so that a wrong password or an unreachable server is a
        // clear error now rather than a pool retrying in the background.
        do {
            let probe = try await PostgresConnection.connect(configuration: try endpoint.connectionConfiguration(timeout: connectTimeout), id: 0, logger: logger)
            try? await probe.close()
        } catch {
            let reason = Self.translate(error)
            throw WhagoError(reason.code, "cannot connect to PostgreSQL at \(endpoint.endpoint): \(reason.message)")
        }
        var configuration = endpoint.clientConfiguration()
        configuration.options.maximumConnections = max(1, poolSize)
        configuration.options.connectTimeout = .milliseconds(Int64(connectTimeout.seconds * 1000))
        self.client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        self.schema = schema
        self.logger = logger
        self.sealer = sealer
        self.callTimeout = connectTimeout + .seconds(5)
        let client = self.client
        self.running = Task { await client.run() }
        do {
            try await withDeadline { try await self.migrate() }
            try await withDeadline { try await self.checkMasterKey() }
        } catch {
            running.cancel()
            throw Self.translate(error)
        }
    }

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

    deinit { running.cancel() }

    public func shutdown() async {
        running.cancel()
    }

    public func healthCheck() async -> HealthReport {
        do {
            let version = try await query("SELECT max(version) FROM \(unescaped: table("schema_migrations"))") { try $0.decode(Int.self) }.first
            return .ok("PostgreSQL reachable, schema \(schema) at migration \(version ?? 0)")
        } catch {
            return .error("PostgreSQL: \(Self.translate(error).message)", fix: "check store.postgres.url and that the server accepts connections")
        }
    }

    /// `"schema".name`.
    func table(_ name: String) -> String { "\"\(schema)\".\(name)" }

    static func isIdentifier(_ text: String) -> Bool {
        guard let first = text.first, first.isLowercase || first == "_" else { return false }
        return text.count <= 63 && text.allSatisfy { ($0.isASCII && ($0.isLowercase || $0.isNumber)) || $0 == "_" }
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
        guard PostgresStore.isIdentifier(text) else {
            throw ConfigValueError("expected a schema name of lower-case letters, digits and _, found '\(text)'")
        }
        name = text
    }
}
