import Foundation
import Logging
import PostgresNIO
public import WhagoCore

extension PostgresStore {
    // MARK: Batches

    /// One transaction: the fence is read `FOR SHARE` (a lease change waits for the batch, and the
    /// batch for it), rows that are compared or counted are locked `FOR UPDATE` first — a tenant's
    /// row before its chips are counted, a worker's before its chips are — so two batches racing
    /// for the last slot are serialized and the second sees the first's chip.
    public func apply(_ batch: StoreBatch) async throws {
        try await transaction { connection in
            if let fence = batch.fence { try await self.check(fence, on: connection) }
            for operation in batch.operations { try await self.apply(operation, on: connection) }
        }
    }

    private func check(_ fence: Fence, on connection: PostgresConnection) async throws {
        let current = try await rows("SELECT holder, token FROM \(unescaped: t("leases")) WHERE name = \(fence.lease) FOR SHARE",
                                     on: connection) { try $0.decode((String, Int64).self) }.first
        guard let current, current.1 == fence.token.value else {
            let now = current.map { "token \($0.1), held by \($0.0)" } ?? "no holder"
            throw WhagoError(.conflict, "the lease '\(fence.lease)' has changed hands (now \(now)); a write fenced with token \(fence.token) is refused")
        }
    }

    private func apply(_ operation: StoreOperation, on connection: PostgresConnection) async throws {
        switch operation {
        case .createTenant(var tenant):
            tenant.version = 1
            try await connection.query("""
                INSERT INTO \(unescaped: t("tenants")) (id, version, doc) VALUES (\(tenant.id.rawValue), 1, \(try self.encode(tenant))::jsonb)
                """, logger: logger)
        case .updateTenant(var tenant):
            let stored = try await lockedVersion("tenants", id: tenant.id.rawValue, what: "tenant \(tenant.id)", on: connection)
            try Self.compare(stored, tenant.version, "tenant \(tenant.id)")
            tenant.version = stored + 1
            try await connection.query("""
                UPDATE \(unescaped: t("tenants")) SET version = \(tenant.version), doc = \(try self.encode(tenant))::jsonb WHERE id = \(tenant.id.rawValue)
                """, logger: logger)
        case .deleteTenant(let id):
            try await deleteTenant(id, on: connection)
        case .addAPIKey(let key):
            try await connection.query("""
                INSERT INTO \(unescaped: t("api_keys")) (prefix, tenant, doc) VALUES (\(key.prefix), \(key.tenant.rawValue), \(try self.encode(key))::jsonb)
                """, logger: logger)
        case .revokeAPIKey(let prefix, let date):
            try await revokeAPIKey(prefix: prefix, at: date, on: connection)
        case .createChip(var chip, let chipLimit, let capacity):
            // The tenant's row, locked: batches creating its chips wait for each other here.
            let count = try await lockedChipCount("tenants", id: chip.tenant.rawValue, what: "tenant \(chip.tenant)", on: connection)
            if let chipLimit {
                guard count < chipLimit else {
                    throw WhagoError(.quotaExceeded, "tenant \(chip.tenant) has \(count) chips, its limit (\(chipLimit)); delete one or raise the limit")
                }
            }
            if let worker = chip.worker, let capacity { try await checkRoom(on: worker, capacity: capacity, on: connection) }
            chip.version = 1
            try await connection.query("""
                INSERT INTO \(unescaped: t("chips")) (id, tenant, name, worker, version, doc)
                VALUES (\(chip.id.rawValue), \(chip.tenant.rawValue), \(chip.name), \(chip.worker?.rawValue), 1, \(try self.encode(chip))::jsonb)
                """, logger: logger)
        case .updateChip(var chip, let capacity):
            guard let stored = try await rows("""
                SELECT version, worker, tenant FROM \(unescaped: t("chips")) WHERE id = \(chip.id.rawValue) FOR UPDATE
                """, on: connection, { try $0.decode((Int, String?, String).self) }).first else {
                throw WhagoError(.notFound, "no chip \(chip.id)")
            }
            try Self.compare(stored.0, chip.version, "chip \(chip.id)")
            if let worker = chip.worker, worker.rawValue != stored.1, let capacity {
                try await checkRoom(on: worker, capacity: capacity, on: connection)
            }
            chip.version = stored.0 + 1
            try await connection.query("""
                UPDATE \(unescaped: t("chips")) SET tenant = \(chip.tenant.rawValue), name = \(chip.name), worker = \(chip.worker?.rawValue),
                    version = \(chip.version), doc = \(try self.encode(chip))::jsonb WHERE id = \(chip.id.rawValue)
                """, logger: logger)
        case .deleteChip(let id, let version):
            let stored = try await lockedVersion("chips", id: id.rawValue, what: "chip \(id)", on: connection)
            if let version { try Self.compare(stored, version, "chip \(id)") }
            try await connection.query("DELETE FROM \(unescaped: t("chips")) WHERE id = \(id.rawValue)", logger: logger)
        case .updateWorker(var worker):
            guard let stored = try await rows("""
                SELECT version, tenant, host, port FROM \(unescaped: t("workers")) WHERE id = \(worker.id.rawValue) FOR UPDATE
                """, on: connection, { try $0.decode((Int, String, String, Int).self) }).first else {
                throw WhagoError(.notFound, "no worker \(worker.id)")
            }
            try Self.compare(stored.0, worker.version, "worker \(worker.id)")
            guard stored.1 == worker.tenant.rawValue, stored.2 == worker.host, stored.3 == worker.port else {
                throw WhagoError(.conflict, "a worker's tenant never changes, and its host and port only by a move (moveWorker)")
            }
            worker.version = stored.0 + 1
            try await connection.query("""
                UPDATE \(unescaped: t("workers")) SET version = \(worker.version), doc = \(try self.encode(worker))::jsonb WHERE id = \(worker.id.rawValue)
                """, logger: logger)
        case .moveWorker(let id, let version, let host, let address, let ports):
            try await moveWorker(id, version: version, to: host, address: address, ports: ports, on: connection)
        case .removeWorker(let id):
            try await connection.query("UPDATE \(unescaped: t("chips")) SET doc = doc - 'worker' WHERE worker = \(id.rawValue)", logger: logger)
            try await connection.query("DELETE FROM \(unescaped: t("workers")) WHERE id = \(id.rawValue)", logger: logger)
        case .leasePort(let worker, let ports):
            try await leasePort(worker, in: ports, on: connection)
        case .leaseStickyPort(let request):
            try await leaseStickyPort(request, on: connection)
        case .acknowledge(let id, let date):
            try await acknowledge(id, at: date, on: connection)
        case .reschedule(let id, let next, let error):
            try await updateEntry(id, in: .pending, on: connection) { entry in
                entry.attempts += 1
                entry.nextAttemptAt = next
                entry.lastError = error
            }
        case .deadLetter(let id, let error):
            try await updateEntry(id, in: .pending, on: connection) { entry in
                entry.attempts += 1
                entry.lastError = error
                entry.state = .dead
            }
        case .retryDeadLetter(let id, let date, let tenant):
            try await updateEntry(id, in: .dead, of: tenant, on: connection) { entry in
                entry.state = .pending
                entry.attempts = 0
                entry.nextAttemptAt = date
            }
        case .pruneEvents(let date):
            try await pruneEvents(before: date, on: connection)
        case .insertProxyLease(let lease):
            try await connection.query("""
                INSERT INTO \(unescaped: t("proxy_leases")) (chip, provider, sticky_port, doc)
                VALUES (\(lease.chip.rawValue), \(lease.provider), \(lease.stickyPort), \(try self.encode(lease))::jsonb)
                """, logger: logger)
        case .releaseProxyLease(let chip):
            try await connection.query("DELETE FROM \(unescaped: t("proxy_leases")) WHERE chip = \(chip.rawValue)", logger: logger)
        case .enqueue(let entries):
            try await insert(entries, on: connection)
        case .recordMessage(var message):
            message.version = 1
            do {
                try await connection.query("""
                    INSERT INTO \(unescaped: t("messages")) (id, chip, idempotency_key, status, created_at, version, doc)
                    VALUES (\(message.id.rawValue), \(message.chip.rawValue), \(message.idempotencyKey), \(message.status.rawValue),
                        \(message.createdAt), 1, \(try encode(message))::jsonb)
                    """, logger: logger)
            } catch {
                let translated = Self.translate(error)
                guard translated.code == .conflict, let key = message.idempotencyKey else { throw translated }
                throw WhagoError(.conflict, "chip \(message.chip) already has a message for idempotency key '\(key)'")
            }
        case .updateMessage(var message):
            guard let stored = try await rows("""
                SELECT version, chip, idempotency_key FROM \(unescaped: t("messages")) WHERE id = \(message.id.rawValue) FOR UPDATE
                """, on: connection, { try $0.decode((Int, String, String?).self) }).first else {
                throw WhagoError(.notFound, "no message \(message.id)")
            }
            try Self.compare(stored.0, message.version, "message \(message.id)")
            guard stored.1 == message.chip.rawValue, stored.2 == message.idempotencyKey else {
                throw WhagoError(.conflict, "a message's chip and idempotency key never change")
            }
            message.version = stored.0 + 1
            try await connection.query("""
                UPDATE \(unescaped: t("messages")) SET status = \(message.status.rawValue), version = \(message.version),
                    doc = \(try encode(message))::jsonb WHERE id = \(message.id.rawValue)
                """, logger: logger)
        }
    }

    /// The version of a row, locked for the rest of the transaction; `not_found` when it is missing.
    private func lockedVersion(_ table: String, id: String, what: String, on connection: PostgresConnection) async throws -> Int {
        guard let version = try await rows("SELECT version FROM \(unescaped: t(table)) WHERE id = \(id) FOR UPDATE",
                                           on: connection, { try $0.decode(Int.self) }).first else {
            throw WhagoError(.notFound, "no \(what)")
        }
        return version
    }

    private func checkRoom(on worker: WorkerID, capacity: Int, on connection: PostgresConnection) async throws {
        let hosted = try await lockedChipCount("workers", id: worker.rawValue, what: "worker \(worker)", on: connection)
        guard hosted < capacity else {
            throw WhagoError(.capacityExhausted, "worker \(worker) hosts \(hosted) chips, its capacity (\(capacity))")
        }
    }

    /// A tenant's or worker's chip count (kept by a trigger), its row locked for the rest of the
    /// transaction; `not_found` when it is missing.
    private func lockedChipCount(_ table: String, id: String, what: String, on connection: PostgresConnection) async throws -> Int {
        guard let count = try await rows("SELECT chip_count FROM \(unescaped: t(table)) WHERE id = \(id) FOR UPDATE",
                                         on: connection, { try $0.decode(Int.self) }).first else {
            throw WhagoError(.notFound, "no \(what)")
        }
        return count
    }

    private static func compare(_ stored: Int, _ expected: Int, _ what: String) throws {
        guard stored == expected else {
            throw WhagoError(.conflict, "\(what) changed meanwhile (version \(stored), this write was based on \(expected)); read it again")
        }
    }

    // MARK: Leases

    public func acquireLease(_ name: String, holder: String, ttl: Duration) async throws -> FencingToken? {
        let milliseconds = Int64(ttl.seconds * 1000)
        // Free or expired: the token grows; already this holder's: same token, later expiry.
        let token = try await query("""
            INSERT INTO \(unescaped: t("leases")) AS l (name, holder, token, expires_at)
            VALUES (\(name), \(holder), 1, now() + \(milliseconds) * interval '1 millisecond')
            ON CONFLICT (name) DO UPDATE SET
                token = CASE WHEN l.holder = excluded.holder THEN l.token ELSE l.token + 1 END,
                holder = excluded.holder, expires_at = excluded.expires_at
            WHERE l.holder = excluded.holder OR l.expires_at <= now()
            RETURNING token
            """) { try $0.decode(Int64.self) }.first
        return token.map(FencingToken.init)
    }

    public func renewLease(_ name: String, holder: String, token: FencingToken, ttl: Duration) async throws -> Bool {
        let milliseconds = Int64(ttl.seconds * 1000)
        let renewed = try await query("""
            UPDATE \(unescaped: t("leases")) SET expires_at = now() + \(milliseconds) * interval '1 millisecond'
            WHERE name = \(name) AND holder = \(holder) AND token = \(token.value) AND expires_at > now() RETURNING name
            """) { _ in () }
        return !renewed.isEmpty
    }

    public func releaseLease(_ name: String, holder: String) async throws {
        // The row stays (expired), so the next holder's token is still larger.
        _ = try await query("""
            UPDATE \(unescaped: t("leases")) SET expires_at = now() WHERE name = \(name) AND holder = \(holder) RETURNING name
            """) { _ in () }
    }
}

extension PostgresStore {
    /// ``StoreOperation/moveWorker(_:version:host:address:ports:)``: the ports of `host` are
    /// locked as ``leasePort(_:in:on:)`` locks them, so a move and a lease never pick one port.
    func moveWorker(_ id: WorkerID, version: Int, to host: String, address: String?, ports: PortRange,
                    on connection: PostgresConnection) async throws {
        try await connection.query("SELECT pg_advisory_xact_lock(hashtext(\("whago.ports." + schema + "." + host)))", logger: logger)
        guard let stored = try await rows("SELECT version, doc::text FROM \(unescaped: t("workers")) WHERE id = \(id.rawValue) FOR UPDATE",
                                          on: connection, { try $0.decode((Int, String).self) }).first else {
            throw WhagoError(.notFound, "no worker \(id)")
        }
        try Self.compare(stored.0, version, "worker \(id)")
        var worker = try decode(Worker.self, stored.1)
        let used = Set(try await rows("""
            SELECT port FROM \(unescaped: t("workers")) WHERE host = \(host) AND id <> \(id.rawValue)
            AND (port = \(worker.port) OR port BETWEEN \(ports.lowerBound) AND \(ports.upperBound))
            """, on: connection) { try $0.decode(Int.self) })
        guard let port = used.contains(worker.port) ? ports.first(where: { !used.contains($0) }) : worker.port else {
            throw WhagoError(.capacityExhausted, "no free port in \(ports) on \(host)")
        }
        worker.host = host
        worker.port = port
        worker.address = address
        worker.version = stored.0 + 1
        try await connection.query("""
            UPDATE \(unescaped: t("workers")) SET host = \(host), port = \(port), version = \(worker.version), doc = \(try encode(worker))::jsonb
            WHERE id = \(id.rawValue)
            """, logger: logger)
    }
}
