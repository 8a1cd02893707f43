import Foundation
import Logging
import NIOSSL
import PostgresNIO
import Synchronization
import WhagoCore

/// Sessions kept in PostgreSQL (`WHATSAPP_SESSIONS_POSTGRESQL_URL`, as WAHA does), one row per
/// session under the worker's `WAHA_WORKER_ID`: a worker re-created on another host with the same
/// id finds its sessions (and their pairing) there.
///
/// Writes go out in the background, one at a time, the latest snapshot winning. Until the kept
/// sessions have been read nothing is written, so a database that was down at start-up is never
/// overwritten with an empty list.
final class PostgresSessionStorage: SessionStorage {
    static let table = "waha_sim_sessions"

    let configuration: PostgresConnection.Configuration
    let worker: String
    let endpoint: String
    let logger: Logger
    private let pending: AsyncStream<[SimulatedSession]>.Continuation
    private let loaded = Atomic<Bool>(false)

    /// - Parameters:
    ///   - url: `postgres://user:password@host:port/database[?sslmode=disable|require]`.
    ///   - worker: `WAHA_WORKER_ID` (required when several workers share one database).
    init(url: String, worker: String, logger: Logger) throws {
        let invalid = WhagoError(.invalidConfig, "WHATSAPP_SESSIONS_POSTGRESQL_URL must look like postgres://user:password@host:5432/database")
        guard let components = URLComponents(string: url), ["postgres", "postgresql"].contains(components.scheme ?? ""),
              let host = components.host, !host.isEmpty, let user = components.user?.removingPercentEncoding, !user.isEmpty else {
            throw invalid
        }
        let mode = components.queryItems?.first { $0.name == "sslmode" }?.value ?? (isLoopbackHost(host) ? "disable" : "require")
        let tls: PostgresConnection.Configuration.TLS
        switch mode {
        case "disable": tls = .disable
        case "require", "verify-full": tls = .require(try NIOSSLContext(configuration: .makeClientConfiguration()))
        default: throw WhagoError(.invalidConfig, "WHATSAPP_SESSIONS_POSTGRESQL_URL: sslmode must be disable, require or verify-full")
        }
        configuration = PostgresConnection.Configuration(
            host: host, port: components.port ?? 5432, username: user, password: components.password?.removingPercentEncoding,
            database: components.path.split(separator: "/").first.map(String.init), tls: tls)
        self.worker = worker
        self.endpoint = "\(host):\(components.port ?? 5432)"
        self.logger = logger
        let (stream, continuation) = AsyncStream.makeStream(of: [SimulatedSession].self, bufferingPolicy: .bufferingNewest(1))
        self.pending = continuation
        Task { [configuration, worker, logger, endpoint] in
            for await snapshot in stream {
                await Self.write(snapshot, worker: worker, configuration: configuration, endpoint: endpoint, logger: logger)
            }
        }
    }

    deinit { pending.finish() }

    /// Creates the table when needed and reads this worker's sessions; PostgreSQL gets 30 s to answer.
    func load() async throws -> [SimulatedSession] {
        let deadline = ContinuousClock.now + .seconds(30)
        while true {
            do {
                let rows = try await Self.withConnection(configuration, logger: logger) { connection in
                    try await connection.query("""
                        CREATE TABLE IF NOT EXISTS \(unescaped: Self.table) (
                            worker text NOT NULL, name text NOT NULL, data jsonb NOT NULL, PRIMARY KEY (worker, name))
                        """, logger: logger)
                    var found: [SimulatedSession] = []
                    let rows = try await connection.query("SELECT data::text FROM \(unescaped: Self.table) WHERE worker = \(worker)", logger: logger)
                    for try await (text) in rows.decode(String.self) {
                        found.append(try JSONDecoder().decode(SimulatedSession.self, from: Data(text.utf8)))
                    }
                    return found
                }
                loaded.store(true, ordering: .releasing)
                logger.info("sessions of worker \(worker) read from PostgreSQL at \(endpoint): \(rows.count)")
                return rows
            } catch let error as DecodingError {
                throw error
            } catch {
                guard ContinuousClock.now < deadline else {
                    throw WhagoError(.unavailable, "PostgreSQL at \(endpoint) did not answer within 30s: \(String(reflecting: error).prefix(200))")
                }
                try await Task.sleep(for: .milliseconds(500))
            }
        }
    }

    func save(_ sessions: [SimulatedSession]) {
        guard loaded.load(ordering: .acquiring) else {
            logger.error("the sessions were not read from PostgreSQL at start-up; not writing over them")
            return
        }
        pending.yield(sessions)
    }

    /// One snapshot in one transaction: this worker's rows become exactly `sessions`.
    private static func write(_ sessions: [SimulatedSession], worker: String, configuration: PostgresConnection.Configuration,
                              endpoint: String, logger: Logger) async {
        for attempt in 1...5 {
            do {
                try await withConnection(configuration, logger: logger) { connection in
                    try await connection.query("BEGIN", logger: logger)
                    try await connection.query("DELETE FROM \(unescaped: table) WHERE worker = \(worker)", logger: logger)
                    for session in sessions {
                        let data = String(decoding: try JSONEncoder().encode(session), as: UTF8.self)
                        try await connection.query("INSERT INTO \(unescaped: table) (worker, name, data) VALUES (\(worker), \(session.name), \(data)::jsonb)",
                                                   logger: logger)
                    }
                    try await connection.query("COMMIT", logger: logger)
                }
                return
            } catch {
                if attempt == 5 { logger.error("cannot keep the sessions in PostgreSQL at \(endpoint): \(String(reflecting: error).prefix(200))") }
                try? await Task.sleep(for: .milliseconds(200 * attempt))
            }
        }
    }

    private static func withConnection<T: Sendable>(_ configuration: PostgresConnection.Configuration, logger: Logger,
                                                    _ body: @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        let connection = try await PostgresConnection.connect(configuration: configuration, id: 1, logger: logger)
        do {
            let result = try await body(connection)
            try? await connection.close()
            return result
        } catch {
            try? await connection.close()
            throw error
        }
    }
}
