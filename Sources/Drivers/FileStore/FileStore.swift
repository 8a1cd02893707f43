public import WhagoCore
import Foundation

/// The `file` store: whago's state in one local data directory. The embedded default.
///
/// The whole state lives in memory; every change is appended to a write-ahead log and fsynced
/// before it is acknowledged — changes arriving while a write is in flight share the next fsync
/// (group commit) — and the log is compacted into a snapshot every `compactEvery` records. An
/// exclusive `flock` keeps a second daemon out. After a crash, the last record may be torn: it is
/// detected by its checksum and dropped (it was never acknowledged); a damaged snapshot stops the
/// daemon with a clear error and is never overwritten.
public actor FileStore: StateBackedStore {
    /// The registration entry.
    public static let driver = Driver<any Store>(
        kind: .store, name: "file",
        summary: "whago's state in a local directory (write-ahead log and snapshots); the embedded default",
        sampleConfig: FileStoreConfiguration.sample,
        configuration: FileStoreConfiguration.self
    ) { configuration, context in
        try await FileStore(directory: configuration.path ?? "\(context.dataDirectory)/store", compactEvery: configuration.compactEvery,
                            sealer: context.sealer)
    } inspect: { configuration, context in
        inspect(directory: configuration.path ?? "\(context.dataDirectory)/store")
    }

    /// The data directory.
    public let directory: String
    private let compactEvery: Int
    private let lock: DirectoryLock
    private let files: StoreFiles
    private let queue = DispatchQueue(label: "whago.file-store")
    private var state: StoreState
    private var pending: [(record: [UInt8], done: CheckedContinuation<Void, any Error>)] = []
    private var flushing = false
    private var recordsSinceSnapshot: Int
    /// Set when a write failed: the memory is ahead of the disk, so nothing more is accepted or read
    /// until the store is reopened (from the disk).
    private var failure: WhagoError?

    /// Opens (creating if needed) and locks the data directory, and recovers its state.
    /// - Parameter sealer: seals the secrets the store keeps; a store written with one opens only
    ///   with the same master key (`unauthorized` otherwise), and never without one.
    public init(directory: String, compactEvery: Int = 10_000, sealer: SecretSealer? = nil) async throws {
        do {
            // The store holds secrets (worker keys, webhook secrets): only whago's user reads it.
            try FileManager.default.createDirectory(
                atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw WhagoError(.unavailable, "cannot create the store directory '\(directory)': \(error.localizedDescription)")
        }
        self.directory = directory
        self.compactEvery = max(1, compactEvery)
        self.lock = try DirectoryLock(path: "\(directory)/LOCK")
        let files = StoreFiles(directory: directory, sealer: sealer)
        self.files = files
        let (state, records) = try await Self.run(on: queue) { try files.recover() }
        self.state = state
        self.recordsSinceSnapshot = records
        do {
            switch (state.keyCheck, sealer) {
            case (let check?, let sealer?): try sealer.verify(keyCheck: check)
            case (_?, nil): throw WhagoError(.unauthorized, "the store's secrets are sealed: give whago its master key (server.masterKey, or <dataDir>/master-key)")
            case (nil, let sealer?):
                let check = try Self.keyCheck(sealer)
                try await commit { _ in .setKeyCheck(check) }
            case (nil, nil): break
            }
        } catch {
            lock.release()
            throw error
        }
    }

    private static func keyCheck(_ sealer: SecretSealer) throws(WhagoError) -> String {
        do { return try sealer.keyCheck() } catch { throw WhagoError(.internal, "cannot seal the key check: \(error)") }
    }

    public func healthCheck() async -> HealthReport {
        if let failure { return .error("the store stopped after a failed write: \(failure.message)", fix: "check the disk, then restart whago") }
        guard FileManager.default.isWritableFile(atPath: directory) else {
            return .error("store directory '\(directory)' is not writable", fix: "fix its permissions or set store.file.path")
        }
        return .ok("data directory \(directory), locked by this process (pid \(getpid())); \(state.chips.count) chips, \(state.workers.count) workers")
    }

    /// Writes what is pending, compacts, and releases the directory lock.
    public func shutdown() async {
        while flushing { await Task.yield() }
        if failure == nil, recordsSinceSnapshot > 0 {
            let state = self.state
            let files = self.files
            try? await Self.run(on: queue) { try files.compact(state) }
        }
        lock.release()
    }

    // MARK: StateBackedStore

    public func commit(_ build: @Sendable (StoreState) throws(WhagoError) -> StoreMutation?) async throws {
        if let failure { throw failure }
        guard let mutation = try build(state) else { return }
        let record = try files.encodeRecord(mutation)
        try state.apply(mutation)
        try await withCheckedThrowingContinuation { (done: CheckedContinuation<Void, any Error>) in
            pending.append((record, done))
            if !flushing {
                flushing = true
                Task { await flush() }
            }
        }
    }

    public func read<T: Sendable>(_ body: @Sendable (StoreState) -> T) async throws -> T {
        // After a failed write the memory holds changes the disk may not: serve none of them.
        if let failure { throw failure }
        return body(state)
    }

    // MARK: Group commit

    private func flush() async {
        while !pending.isEmpty {
            let batch = pending
            pending = []
            let files = self.files
            do {
                try await Self.run(on: queue) { try files.append(batch.map(\.record)) }
                recordsSinceSnapshot += batch.count
                for item in batch { item.done.resume() }
            } catch {
                let failure = (error as? WhagoError) ?? WhagoError(.unavailable, "\(error)")
                self.failure = failure
                for item in batch + pending { item.done.resume(throwing: failure) }
                pending = []
                break
            }
            if pending.isEmpty, recordsSinceSnapshot >= compactEvery {
                let state = self.state
                do {
                    try await Self.run(on: queue) { try files.compact(state) }
                    recordsSinceSnapshot = 0
                } catch {
                    // The logs are intact; compaction is retried after the next records.
                    recordsSinceSnapshot = compactEvery / 2
                }
            }
        }
        flushing = false
    }

    /// Runs blocking file I/O on the store's queue, off the cooperative pool.
    private static func run<T: Sendable>(on queue: DispatchQueue, _ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async { continuation.resume(with: Result { try work() }) }
        }
    }
}

/// `store.file`.
struct FileStoreConfiguration: DriverConfiguration {
    /// The data directory; `nil` means `<server.dataDir>/store`.
    var path: String?
    var compactEvery: Int

    enum CodingKeys: String, CodingKey, CaseIterable {
        case path, compactEvery
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        path = try container.decodeIfPresent(NonEmptyString.self, forKey: .path)?.value
        compactEvery = try container.decodeIfPresent(PositiveInt.self, forKey: .compactEvery)?.value ?? 10_000
    }

    static let sample = """
        file:
          # path: .whago/store           # the data directory (default: <server.dataDir>/store)
          compactEvery: 10000            # log records between two snapshots
        """
}

extension FileStore {
    /// For tests that simulate a crash in-process: releases the directory lock as the kernel does
    /// when a process dies, without flushing or compacting anything.
    @_spi(Testing) public func releaseLockForCrashTest() {
        lock.release()
    }

    /// For tests of a failing disk: the next append to the log fails, as on a full or failing disk.
    @_spi(Testing) public func failNextWriteForTest() {
        let files = self.files
        queue.sync { files.failNextAppend = true }
    }
}
