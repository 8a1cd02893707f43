import Foundation
import Logging
import PostgresStore
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

@Suite("The postgres store", .serialized, .enabled(if: TestServices.postgresURL != nil || TestServices.required))
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
        #expect(report.detail.contains("at migration 1"))
        for store in stores { await store.shutdown() }
    }

    @Test("a bad URL or password is a clear error that never shows the password")
    func badCredentials() async throws {
        let url = try postgresURL()
        let wrong = url.replacingOccurrences(of: "whago-test-pw", with: "n0t-the-pa55word")
        do {
            _ = try await PostgresStore(url: wrong, schema: "nope", connectTimeout: .seconds(5), logger: quietLogger)
            Issue.record("connected with a wrong password")
        } catch let error as WhagoError {
            #expect(error.code == .unauthorized || error.code == .unavailable, "\(error)")
            #expect(!error.description.contains("n0t-the-pa55word"))
        }
        await #expect(throws: WhagoError.self) { _ = try await PostgresStore(url: "mysql://x", logger: quietLogger) }
    }

    @Test("PostgreSQL stopped and started under a running store: no acknowledged write lost, it recovers by itself",
          .enabled(if: TestServices.postgresControl != nil || TestServices.required))
    func serverRestart() async throws {
        let control = try #require(TestServices.postgresControl, Comment(rawValue: TestServices.missing("PostgreSQL control script")))
        let url = try postgresURL()
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
        #expect(try await ChildProcess.run(control, ["start"]).status == 0)

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
