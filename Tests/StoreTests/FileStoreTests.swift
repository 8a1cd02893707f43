import FileStore
import Foundation
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

@Suite("The file store passes the store conformance suite")
struct FileStoreConformanceTests {
    @Test("the file store", arguments: StoreConformance.Check.allCases)
    func check(_ check: StoreConformance.Check) async throws { try await conformance.run(check) }
}

@Suite("The file store's own guarantees")
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

/// Drops a store without its orderly shutdown, as a crash would (the lock is released by hand, as
/// the kernel releases a dead process's locks).
private func storeCrash(_ store: FileStore) async {
    await store.releaseLockForCrashTest()
}
