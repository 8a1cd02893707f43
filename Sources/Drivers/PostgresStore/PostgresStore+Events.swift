public import Foundation
import Logging
import PostgresNIO
public import WhagoCore

extension PostgresStore {
    // MARK: Event log

    /// Appends under a transaction-wide advisory lock, so that sequences commit in the order they
    /// were taken: a reader that saw sequence N never sees an earlier one appear later.
    /// The advisory lock that keeps the log free of gaps: appenders hold it shared until they
    /// commit (so they commit side by side, sharing fsyncs); a reader takes it exclusively for a
    /// moment first, which waits for every append that already took a sequence, so that no
    /// earlier sequence can still appear after what it reads.
    private var eventLock: String { "whago.events." + schema }

    func insert(_ entries: [OutboxEntry], on connection: PostgresConnection) async throws {
        for entry in entries {
            var entry = entry
            entry.state = .pending
            entry.claimedBy = nil
            entry.claimedUntil = nil
            // The insert takes the lock itself before its row gets a sequence (one round trip;
            // taking it again in the same transaction is free).
            try await connection.query("""
                INSERT INTO \(unescaped: t("outbox")) (id, tenant, chip, next_attempt_at, doc)
                SELECT \(entry.id.rawValue), \(entry.tenant.rawValue), \(entry.chip.rawValue), \(entry.nextAttemptAt), \(try self.encode(entry))::jsonb
                FROM (SELECT pg_advisory_xact_lock_shared(hashtext(\(eventLock)))) AS appending
                """, logger: logger)
        }
    }

    /// The columns an entry is read from: the document, overlaid with the columns that change.
    static let entryColumns = "doc::text, seq, state, delivered_at, claimed_by, claimed_until"

    func entry(_ row: PostgresRow) throws -> OutboxEntry {
        let (text, sequence, state, deliveredAt, claimedBy, claimedUntil) = try row.decode((String, Int64, String, Date?, String?, Date?).self)
        var entry = try decode(OutboxEntry.self, text)
        entry.sequence = sequence
        entry.state = OutboxEntry.State(rawValue: state) ?? .pending
        entry.deliveredAt = deliveredAt
        entry.claimedBy = claimedBy
        entry.claimedUntil = claimedUntil
        return entry
    }

    private func entries(_ query: PostgresQuery) async throws -> [OutboxEntry] {
        try await self.query(query) { try self.entry($0) }
    }

    /// Reads the log once every append that already took a sequence has finished (see
    /// ``eventLock``): the exclusive lock is held only for this short transaction.
    private func settledEntries(_ query: PostgresQuery) async throws -> [OutboxEntry] {
        let lock = eventLock
        return try await transaction { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(hashtext(\(lock)))", logger: self.logger)
            return try await self.rows(query, on: connection) { try self.entry($0) }
        }
    }

    public func events(of tenant: TenantID, after sequence: Int64, limit: Int) async throws -> [OutboxEntry] {
        try await settledEntries("""
            SELECT \(unescaped: Self.entryColumns) FROM \(unescaped: t("outbox")) WHERE tenant = \(tenant.rawValue) AND seq > \(sequence)
            ORDER BY seq LIMIT \(limit)
            """)
    }

    /// Pending, due, unclaimed, and the earliest pending entry of its chip.
    public func dueEntries(now: Date, limit: Int) async throws -> [OutboxEntry] {
        try await settledEntries("""
            SELECT \(unescaped: Self.entryColumns) FROM \(unescaped: t("outbox")) o
            WHERE o.state = 'pending' AND o.next_attempt_at <= \(now) AND (o.claimed_until IS NULL OR o.claimed_until <= \(now))
                AND NOT EXISTS (SELECT 1 FROM \(unescaped: t("outbox")) p WHERE p.chip = o.chip AND p.state = 'pending' AND p.seq < o.seq)
            ORDER BY o.seq LIMIT \(limit)
            """)
    }

    public func latestEventSequence() async throws -> Int64 {
        let lock = eventLock
        return try await transaction { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(hashtext(\(lock)))", logger: self.logger)
            return try await self.rows("SELECT coalesce(max(seq), 0)::bigint FROM \(unescaped: self.t("outbox"))", on: connection) {
                try $0.decode(Int64.self)
            }.first ?? 0
        }
    }

    public func outboxDepth() async throws -> Int {
        try await query("SELECT count(*) FROM \(unescaped: t("outbox")) WHERE state = 'pending'") { try $0.decode(Int.self) }.first ?? 0
    }

    public func claimDue(limit: Int, owner: String, for duration: Duration, now: Date, excluding tenants: Set<TenantID>) async throws -> [OutboxEntry] {
        let excluded = tenants.map(\.rawValue)
        let until = now.addingTimeInterval(duration.seconds)
        // Rows another claimer is claiming right now are skipped, not waited for; an earlier
        // pending entry of the same chip keeps a later one out even while it is locked, and no
        // append is still in flight (the exclusive lock) that could slip an earlier one in.
        return try await settledEntries("""
            WITH due AS (
                SELECT o.seq FROM \(unescaped: t("outbox")) o
                WHERE o.state = 'pending' AND o.next_attempt_at <= \(now) AND (o.claimed_until IS NULL OR o.claimed_until <= \(now))
                    AND NOT (o.tenant = ANY(\(excluded)))
                    AND NOT EXISTS (SELECT 1 FROM \(unescaped: t("outbox")) p WHERE p.chip = o.chip AND p.state = 'pending' AND p.seq < o.seq)
                ORDER BY o.seq LIMIT \(limit) FOR UPDATE SKIP LOCKED)
            UPDATE \(unescaped: t("outbox")) AS u SET claimed_by = \(owner), claimed_until = \(until) FROM due WHERE u.seq = due.seq
            RETURNING u.doc::text, u.seq, u.state, u.delivered_at, u.claimed_by, u.claimed_until
            """).sorted { $0.sequence < $1.sequence }
    }

    /// ``StoreOperation/acknowledge(_:at:)``: idempotent.
    func acknowledge(_ id: EventID, at date: Date, on connection: PostgresConnection) async throws {
        try await connection.query("""
            UPDATE \(unescaped: t("outbox")) SET state = 'delivered', delivered_at = \(date), claimed_by = NULL, claimed_until = NULL
            WHERE id = \(id.rawValue) AND state = 'pending'
            """, logger: logger)
    }

    /// Changes an entry in `state` (of `tenant`, when given; `not_found` when there is none),
    /// releasing its claim.
    func updateEntry(_ id: EventID, in state: OutboxEntry.State, of tenant: TenantID? = nil, on connection: PostgresConnection,
                     _ change: (inout OutboxEntry) -> Void) async throws {
        guard let text = try await rows("""
            SELECT doc::text FROM \(unescaped: t("outbox")) WHERE id = \(id.rawValue) AND state = \(state.rawValue)
                AND (\(tenant?.rawValue)::text IS NULL OR tenant = \(tenant?.rawValue)) FOR UPDATE
            """, on: connection, { try $0.decode(String.self) }).first else {
            throw WhagoError(.notFound, state == .dead ? "no dead-lettered event \(id)" : "no outbox entry \(id)")
        }
        var entry = try decode(OutboxEntry.self, text)
        change(&entry)
        try await connection.query("""
            UPDATE \(unescaped: t("outbox")) SET doc = \(try encode(entry))::jsonb, next_attempt_at = \(entry.nextAttemptAt),
                state = \(entry.state.rawValue), claimed_by = NULL, claimed_until = NULL
            WHERE id = \(id.rawValue)
            """, logger: logger)
    }

    public func deadLetters(of tenant: TenantID?, limit: Int) async throws -> [OutboxEntry] {
        if let tenant {
            return try await entries("""
                SELECT \(unescaped: Self.entryColumns) FROM \(unescaped: t("outbox")) WHERE state = 'dead' AND tenant = \(tenant.rawValue) ORDER BY seq LIMIT \(limit)
                """)
        }
        return try await entries("SELECT \(unescaped: Self.entryColumns) FROM \(unescaped: t("outbox")) WHERE state = 'dead' ORDER BY seq LIMIT \(limit)")
    }

    /// ``StoreOperation/pruneEvents(before:)``.
    func pruneEvents(before date: Date, on connection: PostgresConnection) async throws {
        try await connection.query("""
            DELETE FROM \(unescaped: t("messages")) WHERE created_at < \(date) AND status <> 'queued'
            """, logger: logger)
        try await connection.query("""
            DELETE FROM \(unescaped: t("outbox")) WHERE (state = 'delivered' AND delivered_at < \(date))
                OR (state = 'dead' AND (doc->'event'->>'occurredAt')::float8 < \(date.timeIntervalSinceReferenceDate))
            """, logger: logger)
    }
}
