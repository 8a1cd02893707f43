public import Foundation
import Logging
import PostgresNIO
public import WhagoCore

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

    public func tenant(_ id: TenantID) async throws -> Tenant? {
        try await docs(Tenant.self, "SELECT doc::text FROM \(unescaped: self.t("tenants")) WHERE id = \(id.rawValue)").first
    }

    func deleteTenant(_ id: TenantID, on connection: PostgresConnection) async throws {
        let deleted = try await rows("DELETE FROM \(unescaped: t("tenants")) WHERE id = \(id.rawValue) RETURNING id", on: connection) { _ in () }
        guard !deleted.isEmpty else { throw WhagoError(.notFound, "no tenant \(id)") }
    }

    public func apiKey(prefix: String) async throws -> APIKeyRecord? {
        try await docs(APIKeyRecord.self, "SELECT doc::text FROM \(unescaped: self.t("api_keys")) WHERE prefix = \(prefix)").first
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

    public func chip(_ id: ChipID) async throws -> Chip? {
        try await chipRows("SELECT doc::text, worker FROM \(unescaped: self.t("chips")) WHERE id = \(id.rawValue)").first
    }

    public func allChips() async throws -> [Chip] {
        try await chipRows("SELECT doc::text, worker FROM \(unescaped: self.t("chips")) ORDER BY id")
    }

    // MARK: Workers and port leases

    /// ``StoreOperation/leasePort(_:ports:)``: the host's ports are locked for the transaction, so
    /// two leases (or a lease and a move) never pick one port.
    func leasePort(_ template: Worker, in range: PortRange, on connection: PostgresConnection) async throws {
        let host = template.host
        try await connection.query("SELECT pg_advisory_xact_lock(hashtext(\("whago.ports." + schema + "." + host)))", logger: logger)
        let used = Set(try await rows("""
            SELECT port FROM \(unescaped: t("workers")) WHERE host = \(host) AND port BETWEEN \(range.lowerBound) AND \(range.upperBound)
            """, on: connection) { try $0.decode(Int.self) })
        guard let port = range.first(where: { !used.contains($0) }) else {
            throw WhagoError(.capacityExhausted, "no free port in \(range) on \(host)")
        }
        var worker = template
        worker.port = port
        worker.version = 1
        try await connection.query("""
            INSERT INTO \(unescaped: t("workers")) (id, tenant, host, port, version, doc)
            VALUES (\(worker.id.rawValue), \(worker.tenant.rawValue), \(host), \(port), 1, \(try encode(worker))::jsonb)
            """, logger: logger)
    }

    public func worker(_ id: WorkerID) async throws -> Worker? {
        try await docs(Worker.self, "SELECT doc::text FROM \(unescaped: self.t("workers")) WHERE id = \(id.rawValue)").first
    }

    public func workers(of tenant: TenantID?) async throws -> [Worker] {
        guard let tenant else { return try await docs(Worker.self, "SELECT doc::text FROM \(unescaped: self.t("workers")) ORDER BY id") }
        return try await docs(Worker.self, "SELECT doc::text FROM \(unescaped: t("workers")) WHERE tenant = \(tenant.rawValue) ORDER BY id")
    }

    public func portLeases() async throws -> [PortLease] {
        try await workers(of: nil).map { PortLease(host: $0.host, port: $0.port, worker: $0.id, leasedAt: $0.createdAt) }
            .sorted { ($0.host, $0.port) < ($1.host, $1.port) }
    }

    // MARK: Proxy leases

    /// ``StoreOperation/leaseStickyPort(_:)``: one chooser per provider at a time; the unique
    /// (provider, sticky_port) index answers each probe, so no lease is read that is not in the way.
    func leaseStickyPort(_ request: StickyPortLease, on connection: PostgresConnection) async throws {
        let (chip, provider, range) = (request.chip, request.provider, request.ports)
        try await connection.query("SELECT pg_advisory_xact_lock(hashtext(\("whago.sticky." + schema + "." + provider)))", logger: logger)
        let held = try await rows("SELECT 1 FROM \(unescaped: t("proxy_leases")) WHERE chip = \(chip.rawValue)", on: connection) { _ in () }
        guard held.isEmpty else { return }
        let size = range.count
        let offset = request.startingAt.map { min(max(0, $0 - range.lowerBound), size - 1) } ?? 0
        guard let port = try await rows("""
            SELECT p FROM generate_series(\(range.lowerBound), \(range.upperBound)) AS p
            WHERE NOT EXISTS (SELECT 1 FROM \(unescaped: t("proxy_leases")) l WHERE l.provider = \(provider) AND l.sticky_port = p)
            ORDER BY (p - \(range.lowerBound) - \(offset) + \(size)) % \(size) LIMIT 1
            """, on: connection, { try $0.decode(Int.self) }).first else {
            throw WhagoError(.capacityExhausted, "all \(size) sticky ports of \(range) are leased (\(provider))")
        }
        // A missing chip fails the lease's foreign key: `not_found`.
        try await connection.query("""
            INSERT INTO \(unescaped: t("proxy_leases")) (chip, provider, sticky_port, doc)
            VALUES (\(chip.rawValue), \(provider), \(port), \(try encode(request.lease(on: port)))::jsonb)
            """, logger: logger)
    }

    public func proxyLeases(for chips: [ChipID]?) async throws -> [ProxyLease] {
        guard let chips else { return try await docs(ProxyLease.self, "SELECT doc::text FROM \(unescaped: self.t("proxy_leases")) ORDER BY chip") }
        guard !chips.isEmpty else { return [] }
        return try await docs(ProxyLease.self, """
            SELECT doc::text FROM \(unescaped: self.t("proxy_leases")) WHERE chip = ANY(\(chips.map(\.rawValue))) ORDER BY chip
            """)
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

    public func message(_ key: MessageKey) async throws -> OutgoingMessage? {
        switch key {
        case .id(let id):
            return try await messageRows("SELECT doc::text, version FROM \(unescaped: t("messages")) WHERE id = \(id.rawValue)").first
        case .idempotencyKey(let chip, let idempotencyKey):
            return try await messageRows("""
                SELECT doc::text, version FROM \(unescaped: t("messages")) WHERE chip = \(chip.rawValue) AND idempotency_key = \(idempotencyKey)
                """).first
        case .providerMessageID(let chip, let providerMessageID):
            return try await messageRows("""
                SELECT doc::text, version FROM \(unescaped: t("messages"))
                WHERE chip = \(chip.rawValue) AND doc->>'providerMessageID' = \(providerMessageID)
                """).first
        }
    }

    public func messageCount(of chip: ChipID, since date: Date) async throws -> Int {
        try await query("SELECT count(*) FROM \(unescaped: t("messages")) WHERE chip = \(chip.rawValue) AND created_at >= \(date)") {
            try $0.decode(Int.self)
        }.first ?? 0
    }
}
