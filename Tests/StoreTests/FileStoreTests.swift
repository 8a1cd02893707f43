@_spi(Testing) import FileStore
import Foundation
import Synchronization
import Testing
import WhagoCore
import WhagoTesting

/// A fresh file store in a temporary directory, with a small compaction interval so that the
/// suite also crosses snapshots.
private let conformance = StoreConformance {
    let directory = try TemporaryDirectory("file-store")
    let store = try await FileStore(directory: directory.path, compactEvery: 7)
    return .init(store: store) {
        await store.shutdown()
        return try await FileStore(directory: directory.path, compactEvery: 7)
    }
}

@Suite("The file store passes the store conformance suite", .timeLimit(.minutes(10)))
struct FileStoreConformanceTests {
    @Test("the file store", arguments: StoreConformance.Check.allCases)
    func check(_ check: StoreConformance.Check) async throws { try await conformance.run(check) }
}

@Suite("The file store's own guarantees", .timeLimit(.minutes(10)))
struct FileStoreTests {
    @Test("a second open of the same directory fails and names the holder's pid")
    func exclusiveLock() async throws {
        let directory = try TemporaryDirectory("file-store")
        defer { directory.remove() }
        let store = try await FileStore(directory: directory.path)
        do {
            _ = try await FileStore(directory: directory.path)
            Issue.record("a second store opened the same directory")
        } catch let error as WhagoError {
            #expect(error.code == .locked)
            #expect(error.message.contains("pid \(getpid())"))
        }
        await store.shutdown()
        let again = try await FileStore(directory: directory.path)
        await again.shutdown()
    }

    @Test("the lock is never held by a child: 200 opens and closes while children are spawned without pause",
          .timeLimit(.minutes(3)))
    func lockNotInheritedByChildren() async throws {
        let directory = try TemporaryDirectory("file-store")
        defer { directory.remove() }
        // On a thread of its own: a blocking wait on the cooperative pool would starve the tests
        // running beside this one.
        let spawner = ChildSpawner()
        spawner.start()
        for round in 0..<200 {
            do {
                let store = try await FileStore(directory: directory.path)
                await store.shutdown()
            } catch {
                Issue.record("round \(round): \(error)")
                break
            }
        }
        #expect(spawner.stop() > 0, "children were spawned meanwhile")
    }

    @Test("a lock file's path spelled another way is still the same lock")
    func lockBySpelling() async throws {
        let directory = try TemporaryDirectory("file-store")
        defer { directory.remove() }
        let store = try await FileStore(directory: directory.path)
        await #expect(throws: WhagoError.self) { _ = try await FileStore(directory: directory.path + "/./") }
        // The refused second open must not have dropped the first one's lock.
        let writer = try ChildProcess(WhagoBinary.bench, ["store-crash-writer", directory.path])
        #expect(try await writer.waitForExit() != 0, "another process could take a held lock")
        #expect(writer.standardError.contains("locked"), "\(writer.standardError)")
        await store.shutdown()
    }

    @Test("a flipped byte in a record before the last refuses to start, naming the file and offset, and changes nothing")
    func damageInTheMiddle() async throws {
        let directory = try TemporaryDirectory("file-store")
        defer { directory.remove() }
        let store = try await FileStore(directory: directory.path, compactEvery: 1_000)
        try await store.createTenant(Fixtures.tenant("t1"))
        for index in 0..<10 { try await store.createChip(Fixtures.chip(ChipID("c\(index)"), tenant: "t1")) }
        await storeCrash(store)
        let log = try #require(try FileManager.default.contentsOfDirectory(atPath: directory.path).first { $0.hasPrefix("wal-") })
        var bytes = try Data(contentsOf: URL(fileURLWithPath: directory.file(log)))
        // The fourth record's payload: skip three records, then its 8-byte header and a few bytes.
        var offset = 0
        for _ in 0..<3 { offset += 8 + Int(bytes[offset]) | Int(bytes[offset + 1]) << 8 }
        bytes[offset + 8 + 5] ^= 0x20
        try bytes.write(to: URL(fileURLWithPath: directory.file(log)))
        do {
            _ = try await FileStore(directory: directory.path)
            Issue.record("a damaged record in the middle of the log was accepted")
        } catch let error as WhagoError {
            #expect(error.code == .corrupt)
            #expect(error.message.contains(log) && error.message.contains("byte \(offset)"), "\(error.message)")
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: directory.file(log))) == bytes, "the log is untouched")
    }

    @Test("a zero-filled tail after a crash is cut and every record before it kept")
    func zeroFilledTail() async throws {
        let directory = try TemporaryDirectory("file-store")
        defer { directory.remove() }
        let store = try await FileStore(directory: directory.path, compactEvery: 1_000)
        try await store.createTenant(Fixtures.tenant("t1"))
        for index in 0..<5 { try await store.createChip(Fixtures.chip(ChipID("c\(index)"), tenant: "t1")) }
        await storeCrash(store)
        let log = try #require(try FileManager.default.contentsOfDirectory(atPath: directory.path).first { $0.hasPrefix("wal-") })
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: directory.file(log)))
        let goodSize = try handle.seekToEnd()
        try handle.write(contentsOf: Data(count: 4096))
        try handle.close()

        let reopened = try await FileStore(directory: directory.path, compactEvery: 1_000)
        #expect(try await reopened.allChips().count == 5)
        let size = try FileManager.default.attributesOfItem(atPath: directory.file(log))[.size] as? Int
        #expect(size == Int(goodSize), "cut back to the last good record")
        await reopened.shutdown()
    }

    @Test("a snapshot that exists but cannot be read refuses to start and is not replaced")
    func unreadableSnapshot() async throws {
        let directory = try TemporaryDirectory("file-store")
        defer { directory.remove() }
        let store = try await FileStore(directory: directory.path, compactEvery: 1)
        try await store.createTenant(Fixtures.tenant("t1"))
        await store.shutdown()
        // A read error that is not ENOENT (root reads through any mode bits, so use EISDIR).
        let snapshot = directory.file("snapshot")
        try FileManager.default.moveItem(atPath: snapshot, toPath: directory.file("snapshot.saved"))
        try FileManager.default.createDirectory(atPath: snapshot, withIntermediateDirectories: false)
        do {
            let opened = try await FileStore(directory: directory.path)
            await opened.shutdown()
            Issue.record("an unreadable snapshot was taken as missing")
        } catch let error as WhagoError {
            #expect(error.code == .unavailable)
            #expect(error.message.contains(snapshot), "\(error.message)")
        }
        var isDirectory: ObjCBool = false
        #expect(FileManager.default.fileExists(atPath: snapshot, isDirectory: &isDirectory) && isDirectory.boolValue)
    }

    @Test("after a failed write the store serves no read and no write until it is reopened")
    func failedWriteStopsTheStore() async throws {
        let directory = try TemporaryDirectory("file-store")
        defer { directory.remove() }
        let store = try await FileStore(directory: directory.path, compactEvery: 1_000)
        try await store.createTenant(Fixtures.tenant("t1"))
        await store.failNextWriteForTest()
        await #expect(throws: WhagoError.self) { try await store.createChip(Fixtures.chip("c1", tenant: "t1")) }
        await #expect(throws: WhagoError.self) { _ = try await store.allChips() }
        await #expect(throws: WhagoError.self) { try await store.createChip(Fixtures.chip("c2", tenant: "t1")) }
        await store.shutdown()
        let reopened = try await FileStore(directory: directory.path)
        #expect(try await reopened.allChips().isEmpty)
        await reopened.shutdown()
    }

    @Test("the store's files are private: directory 0700, files 0600")
    func fileModes() async throws {
        let directory = try TemporaryDirectory("file-store")
        defer { directory.remove() }
        let path = directory.file("data/store")
        let store = try await FileStore(directory: path, compactEvery: 1)
        try await store.createTenant(Fixtures.tenant("t1"))
        await store.shutdown()
        let mode = { (file: String) in (try FileManager.default.attributesOfItem(atPath: file)[.posixPermissions] as? Int) ?? -1 }
        #expect(try mode(path) == 0o700)
        for name in try FileManager.default.contentsOfDirectory(atPath: path) {
            #expect(try mode("\(path)/\(name)") == 0o600, "\(name)")
        }
    }

    @Test("secrets are sealed at rest: none in plain text in the log or the snapshot; another master key, or none, is refused clearly")
    func sealedSecrets() async throws {
        let directory = try TemporaryDirectory("file-store")
        defer { directory.remove() }
        let sealer = SecretSealer(masterKey: Secret("master-key-one"))
        let store = try await FileStore(directory: directory.path, compactEvery: 1_000, sealer: sealer)
        try await store.createTenant(Fixtures.tenant("t1"))
        @Sendable func worker(_ id: WorkerID, port: Int) -> Worker {
            Worker(id: id, tenant: "t1", name: "whago-\(id)", host: "", port: port, apiKey: Secret("PLAINTEXT-api-key-\(id)"),
                   webhookSecret: Secret("PLAINTEXT-hmac-\(id)"))
        }
        _ = try await store.leasePort(in: try PortRange(3100, 3199), host: "h") { worker("w1", port: $0) }
        await store.shutdown()  // w1 is now in the snapshot
        let reopened = try await FileStore(directory: directory.path, compactEvery: 1_000, sealer: sealer)
        _ = try await reopened.leasePort(in: try PortRange(3100, 3199), host: "h") { worker("w2", port: $0) }
        await reopened.releaseLockForCrashTest()  // w2 is only in the log
        for name in try FileManager.default.contentsOfDirectory(atPath: directory.path) {
            let bytes = try Data(contentsOf: URL(fileURLWithPath: directory.file(name)))
            #expect(bytes.range(of: Data("PLAINTEXT".utf8)) == nil, "\(name) holds a secret in plain text")
        }
        for (other, expected) in [(SecretSealer(masterKey: Secret("master-key-two")), "another master key"), (nil, "give whago its master key")] {
            do {
                let opened = try await FileStore(directory: directory.path, sealer: other)
                await opened.shutdown()
                Issue.record("opened with \(other == nil ? "no" : "another") master key")
            } catch let error as WhagoError {
                #expect(error.code == .unauthorized, "\(error)")
                #expect(error.message.contains(expected), "\(error.message)")
            }
        }
        let third = try await FileStore(directory: directory.path, sealer: sealer)
        #expect(try await third.worker("w1")?.apiKey == Secret("PLAINTEXT-api-key-w1"))
        #expect(try await third.worker("w2")?.webhookSecret == Secret("PLAINTEXT-hmac-w2"))
        await third.shutdown()
    }

    @Test("a torn last record is dropped and every record before it kept")
    func tornTail() async throws {
        let directory = try TemporaryDirectory("file-store")
        defer { directory.remove() }
        let store = try await FileStore(directory: directory.path, compactEvery: 1_000)
        try await store.createTenant(Fixtures.tenant("t1"))
        for index in 0..<10 { try await store.createChip(Fixtures.chip(ChipID("c\(index)"), tenant: "t1")) }
        let log = try #require(try FileManager.default.contentsOfDirectory(atPath: directory.path).first { $0.hasPrefix("wal-") })
        // Simulate `kill -9` mid-append: the lock goes with the process, half a record stays behind.
        await storeCrash(store)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: directory.file(log)))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data([200, 0, 0, 0, 1, 2, 3, 4]) + Data("{\"createChip\":".utf8))
        try handle.close()
        let sizeBefore = try FileManager.default.attributesOfItem(atPath: directory.file(log))[.size] as? Int

        let reopened = try await FileStore(directory: directory.path, compactEvery: 1_000)
        #expect(try await reopened.allChips().count == 10)
        let sizeAfter = try FileManager.default.attributesOfItem(atPath: directory.file(log))[.size] as? Int
        #expect(sizeAfter.map { $0 < (sizeBefore ?? 0) } == true, "the torn tail is cut off")
        try await reopened.createChip(Fixtures.chip("c10", tenant: "t1"))
        await reopened.shutdown()
        let third = try await FileStore(directory: directory.path)
        #expect(try await third.allChips().count == 11)
        await third.shutdown()
    }

    @Test("a damaged snapshot stops the store with a clear error and is never overwritten")
    func corruptSnapshot() async throws {
        let directory = try TemporaryDirectory("file-store")
        defer { directory.remove() }
        let store = try await FileStore(directory: directory.path, compactEvery: 1)
        try await store.createTenant(Fixtures.tenant("t1"))
        await store.shutdown()
        let snapshot = directory.file("snapshot")
        var bytes = try Data(contentsOf: URL(fileURLWithPath: snapshot))
        bytes[bytes.count - 3] ^= 0xFF
        try bytes.write(to: URL(fileURLWithPath: snapshot))
        do {
            _ = try await FileStore(directory: directory.path)
            Issue.record("a damaged snapshot was accepted")
        } catch let error as WhagoError {
            #expect(error.code == .corrupt)
            #expect(error.message.contains("checksum mismatch"))
            #expect(error.message.contains("will not overwrite"))
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: snapshot)) == bytes)
    }

    @Test("compaction keeps everything: many records across snapshots survive a reopen")
    func compaction() async throws {
        let directory = try TemporaryDirectory("file-store")
        defer { directory.remove() }
        let store = try await FileStore(directory: directory.path, compactEvery: 10)
        try await store.createTenant(Fixtures.tenant("t1"))
        for index in 0..<95 { try await store.createChip(Fixtures.chip(ChipID("c\(index)"), tenant: "t1")) }
        for index in 0..<20 { try await store.deleteChip(ChipID("c\(index)"), event: nil) }
        #expect(FileManager.default.fileExists(atPath: directory.file("snapshot")))
        let logs = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasPrefix("wal-") }
        #expect(logs.count == 1, "old logs are deleted after a snapshot: \(logs)")
        await storeCrash(store)
        let reopened = try await FileStore(directory: directory.path)
        #expect(try await reopened.allChips().count == 75)
        await reopened.shutdown()
    }
}

/// Spawns `/bin/true` again and again on a thread of its own until stopped: children that hold,
/// between their fork and exec, whatever their parent had open.
private final class ChildSpawner: Sendable {
    private let running = Atomic<Bool>(true)
    private let spawned = Atomic<Int>(0)
    private let finished = Mutex<Bool>(false)

    func start() {
        Thread.detachNewThread { [self] in
            while running.load(ordering: .relaxed) {
                var pid: pid_t = 0
                let argv: [UnsafeMutablePointer<CChar>?] = [strdup("/bin/true"), nil]
                defer { argv.forEach { free($0) } }
                if posix_spawn(&pid, "/bin/true", nil, nil, argv, environ) == 0 {
                    var status: Int32 = 0
                    waitpid(pid, &status, 0)
                    spawned.add(1, ordering: .relaxed)
                }
            }
            finished.withLock { $0 = true }
        }
    }

    /// Stops spawning; returns how many children were spawned.
    func stop() -> Int {
        running.store(false, ordering: .relaxed)
        while !finished.withLock({ $0 }) { usleep(1_000) }
        return spawned.load(ordering: .relaxed)
    }
}

/// Drops a store without its orderly shutdown, as a crash would (the lock is released by hand, as
/// the kernel releases a dead process's locks).
private func storeCrash(_ store: FileStore) async {
    await store.releaseLockForCrashTest()
}
