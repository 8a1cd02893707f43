import Foundation
import Logging
import ServiceLifecycle
@testable import PostgresStore
@testable import PostgresSupport
import Testing
import WhagoCore
import WhagoTesting

private func postgresURL() throws -> String {
    try #require(TestServices.postgresURL, Comment(rawValue: TestServices.missing("PostgreSQL")))
}

private var quietLogger: Logger {
    var logger = Logger(label: "postgres-store-test")
    logger.logLevel = .critical
    return logger
}

/// Each check gets a schema of its own in the test database.
private let conformance = StoreConformance {
    let url = try postgresURL()
    let schema = "t_" + UUID().uuidString.prefix(12).lowercased().replacingOccurrences(of: "-", with: "")
    let store = try await PostgresStore(url: url, schema: schema, logger: quietLogger)
    return .init(store: store) {
        await store.shutdown()
        return try await PostgresStore(url: url, schema: schema, logger: quietLogger)
    }
}

@Suite("The postgres store", .serialized, .enabled(if: TestServices.postgresURL != nil || TestServices.required), .timeLimit(.minutes(10)))
struct PostgresStoreTests {
    @Test("the postgres store", arguments: StoreConformance.Check.allCases)
    func check(_ check: StoreConformance.Check) async throws { try await conformance.run(check) }

    @Test("two daemons starting together migrate once")
    func concurrentMigrations() async throws {
        let url = try postgresURL()
        let schema = "m_" + UUID().uuidString.prefix(8).lowercased()
        let stores = try await withThrowingTaskGroup(of: PostgresStore.self) { group in
            for _ in 0..<4 { group.addTask { try await PostgresStore(url: url, schema: schema, logger: quietLogger) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        let report = await stores[0].healthCheck()
        #expect(report.status == .ok)
        #expect(report.detail.contains("at migration \(PostgresStore.latestMigration)"))
        for store in stores { await store.shutdown() }
    }

    @Test("a schema written by an earlier whago (migration 2: an outbox with a dead flag, plain-text secrets, a lease keeping its password) migrates to today's and reads back whole")
    func migratesOlderSchema() async throws {
        let url = try postgresURL()
        let schema = "old_" + UUID().uuidString.prefix(8).lowercased()
        let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/postgres-schema-2/dump.sql")
        let dump = try String(contentsOf: fixture, encoding: .utf8).replacingOccurrences(of: "whago_fixture_v2", with: schema)
        let directory = try TemporaryDirectory("pg-fixture")
        defer { directory.remove() }
        let loaded = try await ChildProcess.run("/usr/bin/psql", [url, "-q", "-v", "ON_ERROR_STOP=1", "-f", try directory.write("dump.sql", dump)])
        #expect(loaded.status == 0, "the fixture loads: \(loaded.stderr)")

        let sealer = SecretSealer(masterKey: Secret("a-master-key-for-the-old-schema"))
        let store = try await PostgresStore(url: url, schema: schema, sealer: sealer, logger: quietLogger)
        #expect(await store.healthCheck().detail.contains("at migration \(PostgresStore.latestMigration)"))
        #expect(try await store.tenants().map(\.id) == ["ten_acme", "ten_beta"])
        let acme = try #require(try await store.tenant("ten_acme"))
        #expect(acme.name == "acme" && acme.chipLimit == 5 && acme.webhookURL?.absoluteString == "https://acme.example/hooks")
        #expect(try await store.apiKey(prefix: "wk_acme1")?.tenant == "ten_acme")
        #expect(try await store.apiKey(prefix: "wk_beta1")?.revokedAt != nil)
        let worker = try #require(try await store.worker("wrk_acme1"))
        #expect(worker.port == 3100 && worker.apiKey == Secret("plain-worker-api-key") && worker.webhookSecret == Secret("plain-worker-hmac-key"),
                "plain-text secrets of the time are read")
        let one = try #require(try await store.chip("chip_one"))
        #expect(one.status == .working && one.phone == "5511999990001" && one.worker == "wrk_acme1" && one.metadata["whago.country"] == "br")
        #expect(try await store.chip("chip_two")?.status == .scanQRCode)
        #expect(try await store.chip("chip_three")?.worker == nil)
        let lease = try #require(try await store.proxyLease(of: "chip_one"))
        #expect(lease.stickyPort == 10001 && lease.endpoint?.username == "login__cr.br")
        #expect(lease.endpoint?.password == nil, "the password the old lease kept is dropped on reading")

        // The outbox became the event log: every entry in it, in order, the dead one dead.
        #expect(try await store.events(of: "ten_acme", after: 0, limit: 10).map(\.id) == ["evt_1", "evt_2"])
        #expect(try await store.events(of: "ten_beta", after: 0, limit: 10).map(\.id) == ["evt_3"])
        #expect(try await store.deadLetters(limit: 10).map(\.id) == ["evt_2"])
        #expect(try await store.deadLetters(limit: 10).first?.lastError == "HTTP 500")
        #expect(Set(try await store.dueEntries(now: Date(), limit: 10).map(\.id)) == ["evt_1", "evt_3"])

        // Chip counts were taken at the migration: the quota and the worker's capacity hold.
        try await expectCode(.quotaExceeded) {
            try await store.apply(StoreBatch([.createChip(Fixtures.chip("chip_four", tenant: "ten_acme"), chipLimit: 2)]))
        }
        var placed = Fixtures.chip("chip_five", tenant: "ten_acme")
        placed.worker = "wrk_acme1"
        try await expectCode(.capacityExhausted) { try await store.apply(StoreBatch([.createChip(placed, chipLimit: 5, capacity: 2)])) }
        try await store.apply(StoreBatch([.createChip(placed, chipLimit: 5, capacity: 3)]))
        // The old leader's lease ran out long ago: a new holder takes it, with a later token.
        #expect(try await store.acquireLease("leader", holder: "today", ttl: .seconds(30)).map(\.value) ?? 0 > 1)
        await store.shutdown()

        // Opened again: nothing to migrate, the new chip there.
        let again = try await PostgresStore(url: url, schema: schema, sealer: sealer, logger: quietLogger)
        #expect(try await again.chip("chip_five")?.worker == "wrk_acme1")
        #expect(try await again.allChips().count == 4)
        await again.shutdown()
    }

    /// Runs `body` and expects a ``WhagoError`` with `code`.
    private func expectCode(_ code: WhagoError.Code, sourceLocation: SourceLocation = #_sourceLocation, _ body: () async throws -> Void) async throws {
        do {
            try await body()
            Issue.record("expected \(code), nothing was thrown", sourceLocation: sourceLocation)
        } catch let error as WhagoError {
            #expect(error.code == code, "\(error)", sourceLocation: sourceLocation)
        }
    }

    @Test("a bad URL or password is a clear error that never shows the password")
    func badCredentials() async throws {
        let url = try postgresURL()
        let wrong = url.replacingOccurrences(of: "whago-test-pw", with: "n0t-the-pa55word")
        do {
            _ = try await PostgresStore(url: wrong, schema: "nope", connectTimeout: .seconds(5), logger: quietLogger)
            Issue.record("connected with a wrong password")
        } catch let error as WhagoError {
            #expect(error.code == .unauthorized, "\(error)")
            #expect(!error.description.contains("n0t-the-pa55word"))
        }
        await #expect(throws: WhagoError.self) { _ = try await PostgresStore(url: "mysql://x", logger: quietLogger) }
    }

    @Test("TLS: required by a role, refused in plain text, verified against sslrootcert, and a stranger's certificate refused")
    func tls() async throws {
        let url = try #require(TestServices.postgresTLSURL, Comment(rawValue: TestServices.missing("PostgreSQL with TLS")))
        let certificates = try #require(TestServices.tlsDirectory, Comment(rawValue: TestServices.missing("the tests' certificates")))
        func open(_ query: String) async throws -> PostgresStore {
            try await PostgresStore(url: url + query, schema: "tls_" + UUID().uuidString.prefix(8).lowercased(),
                                    connectTimeout: .seconds(5), logger: quietLogger)
        }
        // The role may only connect over TLS (pg_hba): a plain connection is turned away, and on
        // loopback plain text is the default when sslmode is not written.
        for query in ["?sslmode=disable", ""] {
            do {
                let store = try await open(query)
                await store.shutdown()
                Issue.record("'\(query)' connected without TLS")
            } catch let error as WhagoError {
                #expect(error.code == .unauthorized, "\(query): \(error)")
            }
        }
        for query in ["?sslmode=require", "?sslmode=prefer", "?sslmode=verify-full&sslrootcert=\(certificates)/ca.pem",
                      "?sslmode=require&sslrootcert=\(certificates)/ca.pem"] {
            let store = try await open(query)
            try await store.createTenant(Fixtures.tenant("t1"))
            #expect(try await store.tenant("t1") != nil, "\(query)")
            await store.shutdown()
        }
        do {
            let store = try await open("?sslmode=verify-ca&sslrootcert=\(certificates)/other-ca.pem")
            await store.shutdown()
            Issue.record("a server certificate from another authority was accepted")
        } catch let error as WhagoError {
            #expect(error.code == .unavailable, "\(error)")
            #expect(error.message.contains("TLS"), "\(error)")
            #expect(!error.message.contains("whago-test-pw"))
        }
    }

    @Test("secrets are sealed in the tables; another master key, or none, is refused at startup")
    func sealedSecrets() async throws {
        let url = try postgresURL()
        let schema = "k_" + UUID().uuidString.prefix(8).lowercased()
        let sealer = SecretSealer(masterKey: Secret("master-key-one"))
        let store = try await PostgresStore(url: url, schema: schema, sealer: sealer, logger: quietLogger)
        try await store.createTenant(Fixtures.tenant("t1"))
        _ = try await store.leasePort(in: try PortRange(3100, 3199), host: "h") { port in
            Worker(id: "w1", tenant: "t1", name: "whago-w1", host: "", port: port, apiKey: Secret("PLAINTEXT-api-key"),
                   webhookSecret: Secret("PLAINTEXT-hmac"))
        }
        await store.shutdown()
        let dump = try await ChildProcess.run("/usr/bin/psql", [url, "-At", "-c", "SELECT doc::text FROM \(schema).workers"])
        #expect(dump.status == 0, "\(dump.stderr)")
        #expect(dump.stdout.contains("sealed:v1:"), "\(dump.stdout)")
        #expect(!dump.stdout.contains("PLAINTEXT"), "a secret in plain text: \(dump.stdout)")
        for (other, expected) in [(SecretSealer(masterKey: Secret("master-key-two")), "another master key"), (nil, "give whago its master key")] {
            do {
                let opened = try await PostgresStore(url: url, schema: schema, sealer: other, logger: quietLogger)
                await opened.shutdown()
                Issue.record("opened with \(other == nil ? "no" : "another") master key")
            } catch let error as WhagoError {
                #expect(error.code == .unauthorized, "\(error)")
                #expect(error.message.contains(expected), "\(error.message)")
            }
        }
        let again = try await PostgresStore(url: url, schema: schema, sealer: sealer, logger: quietLogger)
        #expect(try await again.worker("w1")?.apiKey == Secret("PLAINTEXT-api-key"))
        await again.shutdown()
    }

    @Test("as the daemon builds it, the pool is a service of the daemon's group: health checked before it runs, used while it runs, stopped by a graceful shutdown")
    func poolAsService() async throws {
        let url = try postgresURL()
        let schema = "s_" + UUID().uuidString.prefix(8).lowercased()
        let store = try await PostgresStore(url: url, schema: schema, poolSize: 2, connectTimeout: .seconds(5), sealer: nil,
                                            runsClient: false, logger: quietLogger)
        #expect(store.services.count == 1)
        #expect(await store.healthCheck().status == .ok, "checked on a connection of its own, before the pool runs")
        let group = ServiceGroup(services: store.services, gracefulShutdownSignals: [], cancellationSignals: [], logger: quietLogger)
        let running = Task { try await group.run() }
        try await store.createTenant(Fixtures.tenant("t1"))
        #expect(try await store.tenant("t1") != nil)
        await group.triggerGracefulShutdown()
        try await running.value
        await store.shutdown()
    }

    @Test("the PostgreSQL server killed (immediate shutdown) under a running writer at 5 random points, then the writer SIGKILLed: every acknowledged batch is whole, none of the interrupted ones is there in part",
          .enabled(if: TestServices.postgresCrashControl != nil || TestServices.required))
    func sigkillPostgres() async throws {
        let url = try #require(TestServices.postgresCrashURL, Comment(rawValue: TestServices.missing("the crash tests' PostgreSQL")))
        let control = try #require(TestServices.postgresCrashControl, Comment(rawValue: TestServices.missing("PostgreSQL control script")))
        let schema = "crash_" + UUID().uuidString.prefix(8).lowercased()
        var logger = Logger(label: "crash-test")
        logger.logLevel = .critical
        var acknowledged = Set<String>()
        var interrupted = Set<String>()
        var random = TestRandom("the PostgreSQL crash test's kill points")
        for round in 0..<5 {
            // The server dies mid-transaction: the writer's 16 tasks each have a batch in flight.
            let killed = try await writeUntilKilled(["--postgres", url, schema], round: round, random: &random) {
                let status = try await ChildProcess.run(control, ["kill"]).status
                #expect(status == 0, "the server was killed")
            }
            acknowledged.formUnion(killed.acknowledged)
            interrupted.formUnion(killed.failed)
            // It comes back with crash recovery.
            #expect(try await ChildProcess.run(control, ["start"], drain: .milliseconds(500)).status == 0)
            let store = try await PostgresStore(url: url, schema: schema, connectTimeout: .seconds(10), logger: logger)
            try await checkBatches(store, acknowledged: acknowledged, round: round)
            await store.shutdown()
        }
        #expect(acknowledged.count >= 5)
        #expect(interrupted.count >= 5, "each kill broke batches in flight: \(interrupted.count)")
    }

    @Test("PostgreSQL stopped and started under a running store: no acknowledged write lost, it recovers by itself",
          .enabled(if: TestServices.postgresCrashControl != nil || TestServices.required))
    func serverRestart() async throws {
        let control = try #require(TestServices.postgresCrashControl, Comment(rawValue: TestServices.missing("PostgreSQL control script")))
        let url = try #require(TestServices.postgresCrashURL, Comment(rawValue: TestServices.missing("the crash tests' PostgreSQL")))
        let schema = "r_" + UUID().uuidString.prefix(8).lowercased()
        let store = try await PostgresStore(url: url, schema: schema, connectTimeout: .seconds(2), logger: quietLogger)
        try await store.createTenant(Fixtures.tenant("t1"))
        for index in 0..<20 { try await store.createChip(Fixtures.chip(ChipID("before-\(index)"), tenant: "t1")) }

        #expect(try await ChildProcess.run(control, ["stop"]).status == 0)
        do {
            try await store.createChip(Fixtures.chip("during", tenant: "t1"))
            Issue.record("a write succeeded while PostgreSQL was down")
        } catch let error as WhagoError {
            #expect(error.code == .unavailable, "\(error)")
        }
        #expect(try await ChildProcess.run(control, ["start"], drain: .milliseconds(500)).status == 0)

        // The same store, not a new one: it reconnects by itself.
        var recovered = false
        let deadline = ContinuousClock.now + .seconds(30)
        while !recovered, ContinuousClock.now < deadline {
            do {
                try await store.createChip(Fixtures.chip("after", tenant: "t1"))
                recovered = true
            } catch {
                try await Task.sleep(for: .milliseconds(100))
            }
        }
        #expect(recovered)
        let chips = Set(try await store.allChips().map(\.id.rawValue))
        #expect(chips.isSuperset(of: (0..<20).map { "before-\($0)" }))
        #expect(chips.contains("after"))
        #expect(!chips.contains("during"))
        await store.shutdown()
    }
}

@Suite("The postgres store's schema name", .timeLimit(.minutes(3)))
struct PostgresSchemaNameTests {
    @Test("a schema name that needs quoting, is too long or is PostgreSQL's own is refused before any connection, naming it")
    func badNames() async throws {
        // Nothing listens there: a name that got past the check would fail to connect instead.
        let nobody = try RefusingPort()
        let url = "postgres://whago:pw@127.0.0.1:\(nobody.port)/whago"
        for name in ["Whago", "whago-prod", "a;drop schema public", "", "9lives", "é", String(repeating: "a", count: 64), "pg_whago", "information_schema"] {
            do {
                let store = try await PostgresStore(url: url, schema: name, connectTimeout: .seconds(2), logger: quietLogger)
                await store.shutdown()
                Issue.record("schema '\(name)' was accepted")
            } catch let error as WhagoError {
                #expect(error.code == .invalidConfig, "'\(name)': \(error)")
                #expect(error.message.contains("schema '\(name)'"), "the name is in the message: \(error.message)")
            }
        }
        for name in ["whago", "_x", "whago_2", String(repeating: "a", count: 63)] {
            #expect(PostgresStore.schemaProblem(name) == nil, "'\(name)'")
        }
    }
}

@Suite("The postgres store's URL: TLS unless the server is on this machine", .timeLimit(.minutes(10)))
struct PostgresURLTests {
    @Test("sslmode defaults to require for a remote host and to disable on loopback; written modes are kept")
    func defaults() throws {
        #expect(try PostgresURL.parse("postgres://u:p@db.example.com/whago").tlsMode == .require)
        #expect(try PostgresURL.parse("postgres://u:p@10.0.0.5:5432/whago").tlsMode == .require)
        #expect(try PostgresURL.parse("postgres://u:p@127.0.0.1/whago").tlsMode == .disable)
        #expect(try PostgresURL.parse("postgres://u:p@localhost/whago").tlsMode == .disable)
        #expect(try PostgresURL.parse("postgres://u:p@[::1]/whago").tlsMode == .disable)
        #expect(try PostgresURL.parse("postgres://u:p@db.example.com/whago?sslmode=disable").tlsMode == .disable)
        #expect(try PostgresURL.parse("postgres://u:p@127.0.0.1/whago?sslmode=prefer").tlsMode == .prefer)
        #expect(try PostgresURL.parse("postgres://u@x/whago?host=/run/postgresql").tlsConfiguration() == nil)
    }

    @Test("an unknown sslmode or an unreadable sslrootcert is a configuration error that hides the password")
    func invalid() {
        for url in ["postgres://u:s3cr3t@h/whago?sslmode=always", "postgres://u:s3cr3t@h/whago?sslmode=verify-full&sslrootcert=/nonexistent/ca.pem"] {
            do {
                _ = try PostgresURL.parse(url)
                Issue.record("accepted \(url)")
            } catch let error as WhagoError {
                #expect(error.code == .invalidConfig)
                #expect(!error.message.contains("s3cr3t"))
            } catch {
                Issue.record("\(error)")
            }
        }
    }
}
