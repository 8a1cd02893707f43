import Logging
import PostgresNIO
import WhagoCore

extension PostgresStore {
    /// The schema's versions, in order. A released migration never changes; fixes are new versions.
    func migrations() -> [(version: Int, statements: [String])] {
        Self.migrations(schema: schema)
    }

    /// The version the last migration brings a schema to.
    static var latestMigration: Int { migrations(schema: "whago").last?.version ?? 0 }

    /// The migrations of `schema`.
    static func migrations(schema: String) -> [(version: Int, statements: [String])] {
        func table(_ name: String) -> String { "\"\(schema)\".\(name)" }
        return [
            (1, [
                "CREATE TABLE \(table("tenants")) (id text PRIMARY KEY, doc jsonb NOT NULL)",
                """
                CREATE TABLE \(table("api_keys")) (prefix text PRIMARY KEY,
                    tenant text NOT NULL REFERENCES \(table("tenants"))(id) ON DELETE CASCADE, doc jsonb NOT NULL)
                """,
                """
                CREATE TABLE \(table("workers")) (id text PRIMARY KEY,
                    tenant text NOT NULL REFERENCES \(table("tenants"))(id),
                    host text NOT NULL, port integer NOT NULL CHECK (port BETWEEN 1 AND 65535),
                    doc jsonb NOT NULL, UNIQUE (host, port))
                """,
                """
                CREATE TABLE \(table("chips")) (id text PRIMARY KEY,
                    tenant text NOT NULL REFERENCES \(table("tenants"))(id), name text NOT NULL CHECK (name <> ''),
                    worker text REFERENCES \(table("workers"))(id) ON DELETE SET NULL,
                    doc jsonb NOT NULL, UNIQUE (tenant, name))
                """,
                """
                CREATE TABLE \(table("proxy_leases")) (chip text PRIMARY KEY REFERENCES \(table("chips"))(id) ON DELETE CASCADE,
                    provider text NOT NULL, sticky_port integer CHECK (sticky_port BETWEEN 1 AND 65535),
                    doc jsonb NOT NULL, UNIQUE (provider, sticky_port))
                """,
                """
                CREATE TABLE \(table("outbox")) (seq bigserial PRIMARY KEY, id text NOT NULL UNIQUE, tenant text NOT NULL,
                    next_attempt_at timestamptz NOT NULL, dead boolean NOT NULL DEFAULT false, doc jsonb NOT NULL)
                """,
                "CREATE INDEX ON \(table("outbox")) (dead, next_attempt_at)",
                "CREATE TABLE \(table("dedupe")) (request_id text PRIMARY KEY, seen_at timestamptz NOT NULL)",
            ]),
            // Versions for compare-and-set writes, and fencing leases.
            (2, [
                "ALTER TABLE \(table("tenants")) ADD COLUMN version integer NOT NULL DEFAULT 1",
                "ALTER TABLE \(table("chips")) ADD COLUMN version integer NOT NULL DEFAULT 1",
                "ALTER TABLE \(table("workers")) ADD COLUMN version integer NOT NULL DEFAULT 1",
                "ALTER TABLE \(table("proxy_leases")) ADD COLUMN version integer NOT NULL DEFAULT 1",
                """
                CREATE TABLE \(table("leases")) (name text PRIMARY KEY, holder text NOT NULL,
                    token bigint NOT NULL CHECK (token > 0), expires_at timestamptz NOT NULL)
                """,
            ]),
            // The outbox becomes an event log: entries stay after delivery, in per-chip order, with claims.
            (3, [
                """
                ALTER TABLE \(table("outbox")) ADD COLUMN chip text, ADD COLUMN state text NOT NULL DEFAULT 'pending'
                    CHECK (state IN ('pending', 'delivered', 'dead')), ADD COLUMN delivered_at timestamptz,
                    ADD COLUMN claimed_by text, ADD COLUMN claimed_until timestamptz
                """,
                "UPDATE \(table("outbox")) SET chip = doc->'event'->>'chip', state = CASE WHEN dead THEN 'dead' ELSE 'pending' END",
                "ALTER TABLE \(table("outbox")) ALTER COLUMN chip SET NOT NULL, DROP COLUMN dead",
                "CREATE INDEX ON \(table("outbox")) (chip, seq) WHERE state = 'pending'",
                "CREATE INDEX ON \(table("outbox")) (next_attempt_at, seq) WHERE state = 'pending'",
                "CREATE INDEX ON \(table("outbox")) (tenant, seq)",
                "CREATE INDEX ON \(table("dedupe")) (seen_at)",
            ]),
            // Facts about the store itself: the sealed key check.
            (4, [
                "CREATE TABLE \(table("meta")) (key text PRIMARY KEY, value text NOT NULL)",
            ]),
            // Outgoing messages, written before they are sent.
            (5, [
                """
                CREATE TABLE \(table("messages")) (id text PRIMARY KEY,
                    chip text NOT NULL REFERENCES \(table("chips"))(id) ON DELETE CASCADE,
                    idempotency_key text, status text NOT NULL, created_at timestamptz NOT NULL,
                    version integer NOT NULL DEFAULT 1, doc jsonb NOT NULL, UNIQUE (chip, idempotency_key))
                """,
                "CREATE INDEX ON \(table("messages")) (chip, created_at)",
                "CREATE INDEX ON \(table("chips")) (worker)",
                "CREATE INDEX ON \(table("workers")) (tenant)",
                "CREATE INDEX ON \(table("api_keys")) (tenant)",
            ]),
            // Chip counts kept by a trigger, so that quota and capacity checks read one locked row
            // instead of counting chips.
            (6, [
                "ALTER TABLE \(table("tenants")) ADD COLUMN chip_count integer NOT NULL DEFAULT 0",
                "ALTER TABLE \(table("workers")) ADD COLUMN chip_count integer NOT NULL DEFAULT 0",
                "UPDATE \(table("tenants")) t SET chip_count = (SELECT count(*) FROM \(table("chips")) c WHERE c.tenant = t.id)",
                "UPDATE \(table("workers")) w SET chip_count = (SELECT count(*) FROM \(table("chips")) c WHERE c.worker = w.id)",
                """
                CREATE FUNCTION \(table("count_chips"))() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    IF TG_OP IN ('DELETE', 'UPDATE') THEN
                        UPDATE \(table("tenants")) SET chip_count = chip_count - 1 WHERE id = OLD.tenant;
                        IF OLD.worker IS NOT NULL THEN
                            UPDATE \(table("workers")) SET chip_count = chip_count - 1 WHERE id = OLD.worker;
                        END IF;
                    END IF;
                    IF TG_OP IN ('INSERT', 'UPDATE') THEN
                        UPDATE \(table("tenants")) SET chip_count = chip_count + 1 WHERE id = NEW.tenant;
                        IF NEW.worker IS NOT NULL THEN
                            UPDATE \(table("workers")) SET chip_count = chip_count + 1 WHERE id = NEW.worker;
                        END IF;
                    END IF;
                    RETURN NULL;
                END $$
                """,
                """
                CREATE TRIGGER count_chips AFTER INSERT OR DELETE ON \(table("chips"))
                    FOR EACH ROW EXECUTE FUNCTION \(table("count_chips"))()
                """,
                """
                CREATE TRIGGER count_moved_chips AFTER UPDATE OF tenant, worker ON \(table("chips")) FOR EACH ROW
                    WHEN (OLD.tenant IS DISTINCT FROM NEW.tenant OR OLD.worker IS DISTINCT FROM NEW.worker)
                    EXECUTE FUNCTION \(table("count_chips"))()
                """,
            ]),
            // A worker's ack names a message by the id the worker gave it: found by that id.
            (7, [
                "CREATE INDEX ON \(table("messages")) (chip, (doc->>'providerMessageID'))",
            ]),
            // The webhook dedupe window is no longer kept in the store (worker events are deduplicated
            // by their event ids in the log).
            (8, [
                "DROP TABLE IF EXISTS \(table("dedupe"))",
            ]),
        ]
    }

    /// Verifies the sealed key check (written by the first store with a sealer): a store opened with
    /// another master key, or without one, fails now rather than at the first secret it reads.
    func checkMasterKey(on connection: PostgresConnection) async throws {
        let existing = try await connection.query("SELECT value FROM \(unescaped: table("meta")) WHERE key = 'key-check'", logger: logger)
            .decode(String.self).reduce(into: [String]()) { $0.append($1) }.first
        switch (existing, sealer) {
        case (let check?, let sealer?):
            try sealer.verify(keyCheck: check)
        case (_?, nil):
            throw WhagoError(.unauthorized, "the store's secrets are sealed: give whago its master key (server.masterKey, or <dataDir>/master-key)")
        case (nil, let sealer?):
            try await connection.query("""
                INSERT INTO \(unescaped: table("meta")) (key, value) VALUES ('key-check', \(try sealer.keyCheck())) ON CONFLICT (key) DO NOTHING
                """, logger: logger)
            // Another daemon may have written its own first: the one that is there must open.
            try await checkMasterKey(on: connection)
        case (nil, nil):
            break
        }
    }

    /// Applies the missing migrations in one transaction, under an advisory lock on the schema.
    func migrate(on connection: PostgresConnection) async throws {
        let schema = self.schema
        try await connection.withTransaction(logger: logger) { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(hashtext(\("whago.migrate." + schema)))", logger: logger)
            try await connection.query("CREATE SCHEMA IF NOT EXISTS \(unescaped: "\"\(schema)\"")", logger: logger)
            try await connection.query(
                "CREATE TABLE IF NOT EXISTS \(unescaped: table("schema_migrations")) (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())",
                logger: logger)
            var applied = Set<Int>()
            for try await version in try await connection.query("SELECT version FROM \(unescaped: table("schema_migrations"))", logger: logger).decode(Int.self) {
                applied.insert(version)
            }
            for migration in migrations() where !applied.contains(migration.version) {
                for statement in migration.statements {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                try await connection.query("INSERT INTO \(unescaped: table("schema_migrations")) (version) VALUES (\(migration.version))", logger: logger)
                logger.info("store migrated", metadata: ["schema": "\(schema)", "version": "\(migration.version)"])
            }
        }
    }
}
