import Foundation
import Logging
import PostgresNIO
import PostgresSupport
import Synchronization
import WhagoCore

/// Sessions kept in PostgreSQL (`WHATSAPP_SESSIONS_POSTGRESQL_URL`, as WAHA does), one row per
/// session, marked with the `WAHA_WORKER_ID` of the worker that runs it: a worker re-created on
/// another host with the same id finds its sessions (and their pairing) there.
///
/// The store is shared as WAHA's is when workers use one database (its Plus-era session manager,
/// `manager.plus.ts`, June 2025, now WAHA core): `GET /api/sessions?all=true` lists every worker's
/// sessions (``others()``), `DELETE` removes a session whoever runs it (``remove(_:)``), a session
/// another worker keeps can be started here (``take(_:)``), and a session deleted elsewhere is never
/// written back by the worker that ran it.
///
/// Writes go out in the background, one at a time, the latest snapshot winning. Until the kept
/// sessions have been read nothing is written, so a database that was down at start-up is never
/// overwritten with an empty list.
final class PostgresSessionStorage: SessionStorage {
    static let table = "waha_sim_sessions"

    let url: PostgresURL
    let worker: String
    let logger: Logger
    private let pending: AsyncStream<(generation: Int, sessions: [SimulatedSession])>.Continuation
    /// The last snapshot saved, and the last one written (or given up on).
    private let saved = Atomic<Int>(0)
    private let written = Counter()
    private let loaded = Atomic<Bool>(false)
    /// Sessions created or taken over here and not written yet: the only ones a write may insert.
    private let fresh = Names()
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
        let (stream, continuation) = AsyncStream.makeStream(of: (generation: Int, sessions: [SimulatedSession]).self,
                                                            bufferingPolicy: .bufferingNewest(1))
        self.pending = continuation
        let fresh = self.fresh
        let written = self.written
        Task { [url = self.url, worker, logger] in
            for await snapshot in stream {
                // Fresh names stay fresh until written: ``kept()`` counts them meanwhile.
                let inserting = fresh.names.withLock { $0 }
                if await Self.write(snapshot.sessions, inserting: inserting, worker: worker, url: url, logger: logger) {
                    fresh.names.withLock { $0.subtract(inserting) }
                }
                written.value.store(snapshot.generation, ordering: .releasing)
            }
        }
    }

    deinit { pending.finish() }

    /// A generation shared with the writing task.
    private final class Counter: Sendable {
        let value = Atomic<Int>(0)
    }

    func flush() async {
        let target = saved.load(ordering: .acquiring)
        // Bounded: a database that does not answer costs the caller ten seconds at most.
        let deadline = ContinuousClock.now + .seconds(10)
        while written.value.load(ordering: .acquiring) < target, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(5))
        }
    }

    /// Session names shared with the writing task.
    private final class Names: Sendable {
        let names = Mutex<Set<String>>([])
    }

    /// Runs `body` on a connection, creating the table first; PostgreSQL gets 30 s to answer.
    private func withTable<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        let deadline = ContinuousClock.now + .seconds(30)
        while true {
            do {
                return try await url.withConnection(timeout: Self.connectTimeout, logger: logger) { [logger] connection in
                    try await connection.query("""
                        CREATE TABLE IF NOT EXISTS \(unescaped: Self.table) (
                            worker text NOT NULL, name text NOT NULL, data jsonb NOT NULL, PRIMARY KEY (worker, name))
                        """, logger: logger)
                    return try await body(connection)
                }
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

    private static func sessions(_ rows: PostgresRowSequence) async throws -> [SimulatedSession] {
        var found: [SimulatedSession] = []
        for try await (text) in rows.decode(String.self) {
            found.append(try JSONDecoder().decode(SimulatedSession.self, from: Data(text.utf8)))
        }
        return found
    }

    func load() async throws -> [SimulatedSession] {
        let rows = try await withTable { [worker, logger] connection in
            try await Self.sessions(try await connection.query("SELECT data::text FROM \(unescaped: Self.table) WHERE worker = \(worker)", logger: logger))
        }
        loaded.store(true, ordering: .releasing)
        logger.info("sessions of worker \(worker) read from PostgreSQL at \(url.endpoint): \(rows.count)")
        return rows
    }

    func others() async throws -> [SimulatedSession] {
        try await withTable { [worker, logger] connection in
            try await Self.sessions(try await connection.query("SELECT data::text FROM \(unescaped: Self.table) WHERE worker <> \(worker)", logger: logger))
        }
    }

    func take(_ name: String) async throws -> SimulatedSession? {
        try await withTable { [worker, logger] connection in
            try await Self.sessions(try await connection.query("""
                UPDATE \(unescaped: Self.table) SET worker = \(worker) WHERE name = \(name) RETURNING data::text
                """, logger: logger)).first
        }
    }

    func remove(_ name: String) async throws -> Bool {
        try await withTable { [logger] connection in
            !(try await Self.sessions(try await connection.query("DELETE FROM \(unescaped: Self.table) WHERE name = \(name) RETURNING data::text",
                                                                logger: logger))).isEmpty
        }
    }

    func kept() async throws -> Set<String>? {
        let pending = fresh.names.withLock { $0 }
        let rows = try await withTable { [worker, logger] connection in
            var names: Set<String> = []
            for try await name in try await connection.query("SELECT name FROM \(unescaped: Self.table) WHERE worker = \(worker)", logger: logger)
                .decode(String.self) {
                names.insert(name)
            }
            return names
        }
        return rows.union(pending)
    }

    func save(_ sessions: [SimulatedSession], fresh names: Set<String>) {
        fresh.names.withLock { $0.formUnion(names) }
        guard loaded.load(ordering: .acquiring) else {
            logger.error("the sessions were not read from PostgreSQL at start-up; not writing over them")
            return
        }
        let generation = saved.add(1, ordering: .acquiringAndReleasing).newValue
        pending.yield((generation, sessions))
    }

    /// One snapshot in one transaction: this worker's rows become `sessions` — those it deleted
    /// go, the others are updated where they are still this worker's, and only `inserting` may be
    /// written where no row is. Whether it was written.
    private static func write(_ sessions: [SimulatedSession], inserting: Set<String>, worker: String, url: PostgresURL, logger: Logger) async -> Bool {
        for attempt in 1...5 {
            do {
                try await url.withConnection(timeout: connectTimeout, logger: logger) { connection in
                    try await connection.query("BEGIN", logger: logger)
                    let names = sessions.map(\.name)
                    try await connection.query("DELETE FROM \(unescaped: table) WHERE worker = \(worker) AND NOT (name = ANY(\(names)))", logger: logger)
                    for session in sessions {
                        let data = String(decoding: try JSONEncoder().encode(session), as: UTF8.self)
                        if inserting.contains(session.name) {
                            try await connection.query("""
                                INSERT INTO \(unescaped: table) (worker, name, data) VALUES (\(worker), \(session.name), \(data)::jsonb)
                                ON CONFLICT (worker, name) DO UPDATE SET data = EXCLUDED.data
                                """, logger: logger)
                        } else {
                            try await connection.query("""
                                UPDATE \(unescaped: table) SET data = \(data)::jsonb WHERE worker = \(worker) AND name = \(session.name)
                                """, logger: logger)
                        }
                    }
                    try await connection.query("COMMIT", logger: logger)
                }
                return true
            } catch {
                if attempt == 5 { logger.error("cannot keep the sessions in PostgreSQL at \(url.endpoint): \(String(reflecting: error).prefix(200))") }
                try? await Task.sleep(for: .milliseconds(200 * attempt))
            }
        }
        return false
    }
}
