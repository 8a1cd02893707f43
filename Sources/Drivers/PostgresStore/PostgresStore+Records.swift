import Foundation
import Logging
import PostgresNIO
import WhagoCore

extension PostgresStore {
    // MARK: Helpers

    /// Runs `body` within the call deadline, turning every failure into a ``WhagoError``.
    private func perform<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) async throws -> T {
        do {
            return try await withDeadline(body)
        } catch {
            throw Self.translate(error)
        }
    }

    /// The rows of a query, each decoded by `decode`.
    func query<T: Sendable>(_ query: PostgresQuery, _ decode: @escaping @Sendable (PostgresRow) throws -> T) async throws -> [T] {
        try await perform {
            var results: [T] = []
            for try await row in try await self.client.query(query, logger: self.logger) { results.append(try decode(row)) }
            return results
        }
    }

    func rows<T>(_ query: PostgresQuery, on connection: PostgresConnection, _ decode: (PostgresRow) throws -> T) async throws -> [T] {
        var results: [T] = []
        for try await row in try await connection.query(query, logger: self.logger) { results.append(try decode(row)) }
        return results
    }

    func transaction<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        try await perform { try await self.client.withTransaction(logger: self.logger) { try await body($0) } }
    }

    private func docs<T: Decodable & Sendable>(_ type: T.Type, _ query: PostgresQuery) async throws -> [T] {
        try await self.query(query) { row in try self.decode(type, try row.decode(String.self)) }
    }

    /// A record as JSON, its secrets sealed when the store has a sealer.
    func encode(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        if let sealer { encoder.userInfo[.secretSealer] = sealer }
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    func decode<T: Decodable>(_ type: T.Type, _ text: String) throws -> T {
        let decoder = JSONDecoder()
        if let sealer { decoder.userInfo[.secretSealer] = sealer }
        do {
            return try decoder.decode(type, from: Data(text.utf8))
        } catch let error as WhagoError {
            throw error
        } catch {
            throw WhagoError(.corrupt, "a stored \(type) cannot be read: \(error)")
        }
    }

    func t(_ name: String) -> String { table(name) }

    // MARK: Tenants and API keys

    public func createTenant(_ tenant: Tenant) async throws {
        try await apply(StoreBatch([.createTenant(tenant)]))
    }

    public func tenant(_ id: TenantID) async throws -> Tenant? {
        try await docs(Tenant.self, "SELECT doc::text FROM \(unescaped: self.t("tenants")) WHERE id = \(id.rawValue)").first
    }

    public func tenants() async throws -> [Tenant] {
        try await docs(Tenant.self, "SELECT doc::text FROM \(unescaped: self.t("tenants")) ORDER BY id")
    }

    /// Compares ``Tenant/version`` (see ``StoreBatch``).
    public func updateTenant(_ tenant: Tenant) async throws {
        try await apply(StoreBatch([.updateTenant(tenant)]))
    }

    public func deleteTenant(_ id: TenantID) async throws {
        try await transaction { connection in try await self.deleteTenant(id, on: connection) }
    }

    func deleteTenant(_ id: TenantID, on connection: PostgresConnection) async throws {
        let deleted = try await rows("DELETE FROM \(unescaped: t("tenants")) WHERE id = \(id.rawValue) RETURNING id", on: connection) { _ in () }
        guard !deleted.isEmpty else { throw WhagoError(.notFound, "no tenant \(id)") }
    }

    public func addAPIKey(_ key: APIKeyRecord) async throws {
        try await perform {
            try await self.client.query("""
                INSERT INTO \(unescaped: self.t("api_keys")) (prefix, tenant, doc) VALUES (\(key.prefix), \(key.tenant.rawValue), \(try self.encode(key))::jsonb)
                """, logger: self.logger)
        }
    }

    public func apiKey(prefix: String) async throws -> APIKeyRecord? {
        try await docs(APIKeyRecord.self, "SELECT doc::text FROM \(unescaped: self.t("api_keys")) WHERE prefix = \(prefix)").first
    }

    public func revokeAPIKey(prefix: String, at date: Date) async throws {
        try await transaction { connection in try await self.revokeAPIKey(prefix: prefix, at: date, on: connection) }
    }

    func revokeAPIKey(prefix: String, at date: Date, on connection: PostgresConnection) async throws {
        guard let text = try await rows("SELECT doc::text FROM \(unescaped: t("api_keys")) WHERE prefix = \(prefix) FOR UPDATE", on: connection, { try $0.decode(String.self) }).first else {
            throw WhagoError(.notFound, "no API key \(prefix)")
        }
        var key = try self.decode(APIKeyRecord.self, text)
        key.revokedAt = date
        try await connection.query("UPDATE \(unescaped: t("api_keys")) SET doc = \(try self.encode(key))::jsonb WHERE prefix = \(prefix)", logger: logger)
    }

    // MARK: Chips

    private func chipRows(_ query: PostgresQuery) async throws -> [Chip] {
        try await self.query(query) { row in
            let (text, worker) = try row.decode((String, String?).self)
            var chip = try self.decode(Chip.self, text)
            chip.worker = worker.map(WorkerID.init(rawValue:))
            return chip
        }
    }

    public func createChip(_ chip: Chip) async throws {
        try await apply(StoreBatch([.createChip(chip)]))
    }

    public func chip(_ id: ChipID) async throws -> Chip? {
        try await chipRows("SELECT doc::text, worker FROM \(unescaped: self.t("chips")) WHERE id = \(id.rawValue)").first
    }

    public func chips(of tenant: TenantID) async throws -> [Chip] {
        try await chipRows("SELECT doc::text, worker FROM \(unescaped: self.t("chips")) WHERE tenant = \(tenant.rawValue) ORDER BY (doc->>'createdAt')::float8, id")
    }

    public func allChips() async throws -> [Chip] {
        try await chipRows("SELECT doc::text, worker FROM \(unescaped: self.t("chips")) ORDER BY id")
    }

    /// Compares ``Chip/version`` (see ``StoreBatch``).
    public func updateChip(_ chip: Chip) async throws {
        try await apply(StoreBatch([.updateChip(chip)]))
    }

    public func deleteChip(_ id: ChipID, event: OutboxEntry?) async throws {
        try await transaction { connection in
            let deleted = try await self.rows("DELETE FROM \(unescaped: self.t("chips")) WHERE id = \(id.rawValue) RETURNING id", on: connection) { _ in () }
            guard !deleted.isEmpty else { throw WhagoError(.notFound, "no chip \(id)") }
            if let event { try await self.insert([event], on: connection) }
        }
    }

    // MARK: Workers and port leases

    public func leasePort(in range: PortRange, host: String, for makeWorker: @escaping @Sendable (Int) -> Worker) async throws -> Worker {
        try await transaction { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(hashtext(\("whago.ports." + self.schema + "." + host)))", logger: self.logger)
            let used = Set(try await self.rows("""
                SELECT port FROM \(unescaped: self.t("workers")) WHERE host = \(host) AND port BETWEEN \(range.lowerBound) AND \(range.upperBound)
                """, on: connection) { try $0.decode(Int.self) })
            guard let port = range.first(where: { !used.contains($0) }) else {
                throw WhagoError(.capacityExhausted, "no free port in \(range) on \(host)")
            }
            var worker = makeWorker(port)
            worker.host = host
            worker.port = port
            worker.version = 1
            try await connection.query("""
                INSERT INTO \(unescaped: self.t("workers")) (id, tenant, host, port, version, doc)
                VALUES (\(worker.id.rawValue), \(worker.tenant.rawValue), \(host), \(port), 1, \(try self.encode(worker))::jsonb)
                """, logger: self.logger)
            return worker
        }
    }

    public func worker(_ id: WorkerID) async throws -> Worker? {
        try await docs(Worker.self, "SELECT doc::text FROM \(unescaped: self.t("workers")) WHERE id = \(id.rawValue)").first
    }

    public func workers() async throws -> [Worker] {
        try await docs(Worker.self, "SELECT doc::text FROM \(unescaped: self.t("workers")) ORDER BY id")
    }

    /// Compares ``Worker/version`` (see ``StoreBatch``).
    public func updateWorker(_ worker: Worker) async throws {
        try await apply(StoreBatch([.updateWorker(worker)]))
    }

    public func removeWorker(_ id: WorkerID) async throws {
        try await transaction { connection in
            try await connection.query("UPDATE \(unescaped: self.t("chips")) SET doc = doc - 'worker' WHERE worker = \(id.rawValue)", logger: self.logger)
            try await connection.query("DELETE FROM \(unescaped: self.t("workers")) WHERE id = \(id.rawValue)", logger: self.logger)
        }
    }

    public func portLeases() async throws -> [PortLease] {
        try await workers().map { PortLease(host: $0.host, port: $0.port, worker: $0.id, leasedAt: $0.createdAt) }
            .sorted { ($0.host, $0.port) < ($1.host, $1.port) }
    }

    public func portLeaseCounts() async throws -> [String: Int] {
        let counts = try await query("SELECT host, count(*)::int8 FROM \(unescaped: t("workers")) GROUP BY host") { try $0.decode((String, Int).self) }
        return Dictionary(counts, uniquingKeysWith: +)
    }

    // MARK: Proxy leases

    public func insertProxyLease(_ lease: ProxyLease) async throws {
        try await perform {
            try await self.client.query("""
                INSERT INTO \(unescaped: self.t("proxy_leases")) (chip, provider, sticky_port, doc)
                VALUES (\(lease.chip.rawValue), \(lease.provider), \(lease.stickyPort), \(try self.encode(lease))::jsonb)
                """, logger: self.logger)
        }
    }

    public func leaseStickyPort(for chip: ChipID, provider: String, in range: PortRange, startingAt start: Int?,
                                makeLease: @escaping @Sendable (Int) -> ProxyLease) async throws -> ProxyLease {
        try await transaction { connection in
            // One chooser per provider at a time; the unique (provider, sticky_port) index answers
            // each probe, so no lease is read that is not in the way.
            try await connection.query("SELECT pg_advisory_xact_lock(hashtext(\("whago.sticky." + self.schema + "." + provider)))", logger: self.logger)
            if let text = try await self.rows("SELECT doc::text FROM \(unescaped: self.t("proxy_leases")) WHERE chip = \(chip.rawValue)",
                                              on: connection, { try $0.decode(String.self) }).first {
                return try self.decode(ProxyLease.self, text)
            }
            let size = range.count
            let offset = start.map { min(max(0, $0 - range.lowerBound), size - 1) } ?? 0
            guard let port = try await self.rows("""
                SELECT p FROM generate_series(\(range.lowerBound), \(range.upperBound)) AS p
                WHERE NOT EXISTS (SELECT 1 FROM \(unescaped: self.t("proxy_leases")) l WHERE l.provider = \(provider) AND l.sticky_port = p)
                ORDER BY (p - \(range.lowerBound) - \(offset) + \(size)) % \(size) LIMIT 1
                """, on: connection, { try $0.decode(Int.self) }).first else {
                throw WhagoError(.capacityExhausted, "all \(size) sticky ports of \(range) are leased (\(provider))")
            }
            var lease = makeLease(port)
            lease.chip = chip
            lease.provider = provider
            lease.stickyPort = port
            try await connection.query("""
                INSERT INTO \(unescaped: self.t("proxy_leases")) (chip, provider, sticky_port, doc)
                VALUES (\(chip.rawValue), \(provider), \(port), \(try self.encode(lease))::jsonb)
                """, logger: self.logger)
            return lease
        }
    }

    public func proxyLease(of chip: ChipID) async throws -> ProxyLease? {
        try await docs(ProxyLease.self, "SELECT doc::text FROM \(unescaped: self.t("proxy_leases")) WHERE chip = \(chip.rawValue)").first
    }

    public func proxyLeases() async throws -> [ProxyLease] {
        try await docs(ProxyLease.self, "SELECT doc::text FROM \(unescaped: self.t("proxy_leases")) ORDER BY chip")
    }

    public func proxyLeases(of chips: [ChipID]) async throws -> [ChipID: ProxyLease] {
        guard !chips.isEmpty else { return [:] }
        let leases = try await docs(ProxyLease.self, "SELECT doc::text FROM \(unescaped: self.t("proxy_leases")) WHERE chip = ANY(\(chips.map(\.rawValue)))")
        return Dictionary(leases.map { ($0.chip, $0) }, uniquingKeysWith: { first, _ in first })
    }

    public func releaseProxyLease(of chip: ChipID) async throws {
        _ = try await query("DELETE FROM \(unescaped: self.t("proxy_leases")) WHERE chip = \(chip.rawValue)") { _ in () }
    }

    // MARK: Queries

    public func tenants(after: TenantID?, limit: Int) async throws -> [Tenant] {
        try await docs(Tenant.self, """
            SELECT doc::text FROM \(unescaped: t("tenants")) WHERE id > \(after?.rawValue ?? "") ORDER BY id LIMIT \(limit)
            """)
    }

    public func chips(of tenant: TenantID, after: ChipID?, limit: Int) async throws -> [Chip] {
        try await chipRows("""
            SELECT doc::text, worker FROM \(unescaped: t("chips")) WHERE tenant = \(tenant.rawValue) AND id > \(after?.rawValue ?? "")
            ORDER BY id LIMIT \(limit)
            """)
    }

    public func chips(on worker: WorkerID) async throws -> [Chip] {
        try await chipRows("SELECT doc::text, worker FROM \(unescaped: t("chips")) WHERE worker = \(worker.rawValue) ORDER BY id")
    }

    public func workers(of tenant: TenantID) async throws -> [Worker] {
        try await docs(Worker.self, "SELECT doc::text FROM \(unescaped: t("workers")) WHERE tenant = \(tenant.rawValue) ORDER BY id")
    }

    public func apiKeys(of tenant: TenantID) async throws -> [APIKeyRecord] {
        try await docs(APIKeyRecord.self, "SELECT doc::text FROM \(unescaped: t("api_keys")) WHERE tenant = \(tenant.rawValue) ORDER BY prefix")
    }

    // MARK: Outgoing messages

    private func messageRows(_ query: PostgresQuery) async throws -> [OutgoingMessage] {
        try await self.query(query) { row in
            let (text, version) = try row.decode((String, Int).self)
            var message = try self.decode(OutgoingMessage.self, text)
            message.version = version
            return message
        }
    }

    public func message(_ id: MessageID) async throws -> OutgoingMessage? {
        try await messageRows("SELECT doc::text, version FROM \(unescaped: t("messages")) WHERE id = \(id.rawValue)").first
    }

    public func message(of chip: ChipID, idempotencyKey: String) async throws -> OutgoingMessage? {
        try await messageRows("""
            SELECT doc::text, version FROM \(unescaped: t("messages")) WHERE chip = \(chip.rawValue) AND idempotency_key = \(idempotencyKey)
            """).first
    }

    public func message(of chip: ChipID, providerMessageID: String) async throws -> OutgoingMessage? {
        try await messageRows("""
            SELECT doc::text, version FROM \(unescaped: t("messages"))
            WHERE chip = \(chip.rawValue) AND doc->>'providerMessageID' = \(providerMessageID)
            """).first
    }

    public func messageCount(of chip: ChipID, since date: Date) async throws -> Int {
        try await query("SELECT count(*) FROM \(unescaped: t("messages")) WHERE chip = \(chip.rawValue) AND created_at >= \(date)") {
            try $0.decode(Int.self)
        }.first ?? 0
    }

    // MARK: Webhook dedupe

    public func seenBefore(requestID: String, at now: Date, window: Duration) async throws -> Bool {
        let inserted = try await query("""
            INSERT INTO \(unescaped: self.t("dedupe")) (request_id, seen_at) VALUES (\(requestID), \(now))
            ON CONFLICT (request_id) DO NOTHING RETURNING request_id
            """) { _ in () }
        let expired = now.addingTimeInterval(-window.seconds)
        if !inserted.isEmpty {
            // Housekeeping: ids past their window are forgotten (an indexed delete, usually of nothing).
            _ = try await query("DELETE FROM \(unescaped: self.t("dedupe")) WHERE seen_at < \(expired) RETURNING request_id") { _ in () }
            return false
        }
        let renewed = try await query("""
            UPDATE \(unescaped: self.t("dedupe")) SET seen_at = \(now) WHERE request_id = \(requestID) AND seen_at <= \(expired) RETURNING request_id
            """) { _ in () }
        return renewed.isEmpty
    }
}
