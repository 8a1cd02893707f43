import Foundation
import Logging
import PostgresNIO
import PostgresStore
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

    let url: PostgresURL
    let worker: String
    let logger: Logger
    private let pending: AsyncStream<[SimulatedSession]>.Continuation
    private let loaded = Atomic<Bool>(false)
    /// How long connecting may take.
    static let connectTimeout = Duration.seconds(10)

    /// - Parameters:
    ///   - url: `postgres://user:password@host:port/database[?sslmode=…]`, read as the `postgres`
    ///     store reads its own (libpq's `sslmode`; `require` by default off loopback).
    ///   - worker: `WAHA_WORKER_ID` (required when several workers share one database).
    init(url: String, worker: String, logger: Logger) throws {
        self.url = try PostgresURL.parse(url, setting: "WHATSAPP_SESSIONS_POSTGRESQL_URL")
        self.worker = worker
        self.logger = logger
        let (stream, continuation) = AsyncStream.makeStream(of: [SimulatedSession].self, bufferingPolicy: .bufferingNewest(1))
        self.pending = continuation
        Task { [url = self.url, worker, logger] in
            for await snapshot in stream {
                await Self.write(snapshot, worker: worker, url: url, logger: logger)
            }
        }
    }

    deinit { pending.finish() }

    /// Creates the table when needed and reads this worker's sessions; PostgreSQL gets 30 s to answer.
    func load() async throws -> [SimulatedSession] {
        let deadline = ContinuousClock.now + .seconds(30)
        while true {
            do {
                let rows = try await url.withConnection(timeout: Self.connectTimeout, logger: logger) { [worker, logger] connection in
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
                logger.info("sessions of worker \(worker) read from PostgreSQL at \(url.endpoint): \(rows.count)")
                return rows
            } catch let error as DecodingError {
                throw error
            } catch {
                guard ContinuousClock.now < deadline else {
                    throw WhagoError(.unavailable, "PostgreSQL at \(url.endpoint) did not answer within 30s: \(String(reflecting: error).prefix(200))")
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
    private static func write(_ sessions: [SimulatedSession], worker: String, url: PostgresURL, logger: Logger) async {
        for attempt in 1...5 {
            do {
                try await url.withConnection(timeout: connectTimeout, logger: logger) { connection in
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
                if attempt == 5 { logger.error("cannot keep the sessions in PostgreSQL at \(url.endpoint): \(String(reflecting: error).prefix(200))") }
                try? await Task.sleep(for: .milliseconds(200 * attempt))
            }
        }
    }
}
