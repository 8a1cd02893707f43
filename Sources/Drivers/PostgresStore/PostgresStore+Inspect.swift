import Foundation
import Logging
import PostgresNIO
import PostgresSupport
import WhagoCore

extension PostgresStore {
    /// What `whago doctor` says of the database, reading only: whether it answers, whether the
    /// schema exists and at which migration, and whether the master key opens its secrets. It
    /// creates no schema, runs no migration and writes no key check.
    static func inspect(url: String, schema: String, sealer: SecretSealer?, timeout: Duration, logger: Logger) async -> HealthReport {
        if let problem = schemaProblem(schema) { return .error(problem, fix: "set store.postgres.schema") }
        let found: SchemaFacts?
        do {
            found = try await schemaFacts(url: url, schema: schema, timeout: timeout, logger: logger)
        } catch {
            let message = (error as? WhagoError)?.message ?? translate(error).message
            return .error(message, fix: "check store.postgres.url and that the server accepts connections")
        }
        guard let found else {
            return .ok("PostgreSQL reachable; schema \(schema) does not exist yet: whago creates and migrates it at its first start")
        }
        if let problem = keyProblem(found.keyCheck, sealer: sealer) { return problem }
        let version = found.version ?? 0
        let latest = latestMigration
        if version > latest {
            return .warning("PostgreSQL reachable, schema \(schema) at migration \(version), newer than this whago knows (\(latest))",
                            fix: "run the whago that wrote it, or a newer one")
        }
        let pending = version < latest ? " (whago migrates it to \(latest) at its next start)" : ""
        return .ok("PostgreSQL reachable, schema \(schema) at migration \(version)\(pending)")
    }

    /// What doctor reads of an existing schema.
    struct SchemaFacts: Sendable {
        var version: Int?
        var keyCheck: String?
    }

    /// The schema's migration and key check, or nil when it has no migrations table.
    private static func schemaFacts(url: String, schema: String, timeout: Duration, logger: Logger) async throws -> SchemaFacts? {
        let endpoint = try PostgresURL.parse(url)
        let quoted = "\"\(schema)\""
        return try await endpoint.withConnection(timeout: timeout, logger: logger) { connection in
            func exists(_ table: String) async throws -> Bool {
                let names = try await connection.query("SELECT to_regclass(\(quoted + "." + table))::text", logger: logger)
                    .decode(String?.self).reduce(into: [String?]()) { $0.append($1) }
                return names.first.flatMap { $0 } != nil
            }
            guard try await exists("schema_migrations") else { return nil }
            let versions = try await connection.query("SELECT max(version) FROM \(unescaped: quoted).schema_migrations", logger: logger)
                .decode(Int?.self).reduce(into: [Int?]()) { $0.append($1) }
            var facts = SchemaFacts(version: versions.first.flatMap { $0 }, keyCheck: nil)
            if try await exists("meta") {
                facts.keyCheck = try await connection.query("SELECT value FROM \(unescaped: quoted).meta WHERE key = 'key-check'", logger: logger)
                    .decode(String.self).reduce(into: [String]()) { $0.append($1) }.first
            }
            return facts
        }
    }

    /// Whether the master key opens the store's secrets: nil when it does (or none are sealed yet).
    private static func keyProblem(_ keyCheck: String?, sealer: SecretSealer?) -> HealthReport? {
        guard let keyCheck else { return nil }
        guard let sealer else {
            return .error("the store's secrets are sealed and no master key is given", fix: "set server.masterKey, or put it in <server.dataDir>/master-key")
        }
        do {
            try sealer.verify(keyCheck: keyCheck)
            return nil
        } catch {
            return .error(error.message, fix: "give whago the master key this store was sealed with (server.masterKey)")
        }
    }
}
