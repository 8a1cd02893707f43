import FileStore
import Foundation
import Testing
import WhagoCore
import WhagoTesting

/// `Fixtures/file-store-format-1/`: a data directory written by whago before batches, versions,
/// the event log and sealed secrets (commit 7dd594a, `whago-bench fixture-writer`): a snapshot of
/// format 1 and a log of format-1 records (bare mutations), left as a crash leaves them.
private let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/file-store-format-1").path

@Suite("The file store reads what earlier versions wrote", .timeLimit(.minutes(3)))
struct FileStoreFormatTests {
    private func copyOfFixture() throws -> TemporaryDirectory {
        let directory = try TemporaryDirectory("file-store-format")
        for name in try FileManager.default.contentsOfDirectory(atPath: fixture) {
            try FileManager.default.copyItem(atPath: "\(fixture)/\(name)", toPath: directory.file(name))
        }
        return directory
    }

    @Test("a format-1 snapshot and format-1 log records load, with every record as it was written")
    func formatOne() async throws {
        let directory = try copyOfFixture()
        defer { directory.remove() }
        let store = try await FileStore(directory: directory.path)
        let t1 = try #require(try await store.tenant("t1"))
        #expect(t1.name == "Tenant one" && t1.chipLimit == 5 && t1.version == 1)
        #expect(t1.webhookURL?.absoluteString == "https://saas.example/hooks/t1")
        #expect(try await store.tenant("t2") != nil)
        #expect(try await store.apiKey(prefix: "wk_fixture")?.revokedAt == Fixtures.date(12), "the log's revocation")
        let worker = try #require(try await store.worker("w1"))
        #expect(worker.apiKey == Secret("fixture-worker-key") && worker.webhookSecret == Secret("fixture-hmac") && worker.restarts == 0)
        let chip = try #require(try await store.chip("c1"))
        #expect(chip.status == .working && chip.phone == "5511999990000@c.us" && chip.worker == "w1" && chip.metadata == ["crm": "42"])
        #expect(try await store.chip("c2") == nil, "the log's deletion")
        let lease = try #require(try await store.proxyLease(of: "c1"))
        #expect(lease.stickyPort == 10001 && lease.endpoint?.username == "login__cr.br")
        #expect(lease.endpoint?.password == nil, "the password an old lease held is dropped on reading")
        let log = try await store.events(of: "t1", after: 0, limit: 100)
        #expect(log.map(\.id) == ["e2", "e3", "e4"], "e1 was delivered and removed by that version")
        #expect(log.map(\.state) == [.pending, .dead, .pending])
        #expect(log.map(\.sequence) == [2, 3, 4])
        #expect(log.first?.attempts == 1 && log.first?.lastError == "HTTP 503")
        // The log's markSeen record (a dedupe window whago no longer keeps) replays as nothing.

        // It goes on from there: new records, a new sequence, and a reopen.
        var renamed = t1
        renamed.name = "Tenant one, renamed"
        try await store.updateTenant(renamed)
        try await store.enqueue([Fixtures.entry("e5", chip: "c1", tenant: "t1")])
        #expect(try await store.events(of: "t1", after: 4, limit: 10).map(\.sequence) == [5])
        await store.shutdown()
        let reopened = try await FileStore(directory: directory.path)
        #expect(try await reopened.tenant("t1")?.version == 2)
        #expect(try await reopened.events(of: "t1", after: 0, limit: 100).map(\.id) == ["e2", "e3", "e4", "e5"])
        await reopened.shutdown()
    }

    @Test("opened with a master key, the old store gets its key check and keeps its plain secrets readable")
    func sealingAnOldStore() async throws {
        let directory = try copyOfFixture()
        defer { directory.remove() }
        let sealer = SecretSealer(masterKey: Secret("fixture-master-key"))
        let store = try await FileStore(directory: directory.path, sealer: sealer)
        #expect(try await store.worker("w1")?.apiKey == Secret("fixture-worker-key"))
        await store.shutdown()
        await #expect(throws: WhagoError.self, "now sealed: another key is refused") {
            _ = try await FileStore(directory: directory.path, sealer: SecretSealer(masterKey: Secret("another")))
        }
        let again = try await FileStore(directory: directory.path, sealer: sealer)
        #expect(try await again.worker("w1")?.webhookSecret == Secret("fixture-hmac"))
        await again.shutdown()
    }
}
