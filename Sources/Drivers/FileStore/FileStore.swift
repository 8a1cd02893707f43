public import WhagoCore
import Foundation

/// The `file` store: whago's state in one local data directory. The embedded default.
///
/// This build opens the directory and holds its lock (so that two daemons cannot share it); the
/// records themselves — write-ahead log, snapshots, recovery — arrive with the stores issue, and
/// until then record operations fail with `not_implemented`.
public final class FileStore: Store {
    /// The registration entry.
    public static let driver = Driver<any Store>(
        kind: .store, name: "file",
        summary: "whago's state in a local directory (write-ahead log and snapshots); the embedded default",
        sampleConfig: FileStoreConfiguration.sample,
        configuration: FileStoreConfiguration.self
    ) { configuration, context in
        try FileStore(directory: configuration.path ?? "\(context.dataDirectory)/store")
    }

    /// The data directory.
    public let directory: String
    private let lock: DirectoryLock

    /// Opens (creating if needed) and locks the data directory.
    public init(directory: String) throws {
        self.directory = directory
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw WhagoError(.unavailable, "cannot create the store directory '\(directory)': \(error.localizedDescription)")
        }
        self.lock = try DirectoryLock(path: "\(directory)/LOCK")
    }

    public func healthCheck() async -> HealthReport {
        guard FileManager.default.isWritableFile(atPath: directory) else {
            return .error("store directory '\(directory)' is not writable", fix: "fix its permissions or set store.file.path")
        }
        return .ok("data directory \(directory), locked by this process (pid \(getpid()))")
    }

    public func shutdown() async { lock.release() }

    // MARK: Records (the stores issue)

    public func createTenant(_ tenant: Tenant) async throws { throw notYet("tenants") }
    public func tenant(_ id: TenantID) async throws -> Tenant? { throw notYet("tenants") }
    public func tenants() async throws -> [Tenant] { throw notYet("tenants") }
    public func updateTenant(_ tenant: Tenant) async throws { throw notYet("tenants") }
    public func deleteTenant(_ id: TenantID) async throws { throw notYet("tenants") }
    public func addAPIKey(_ key: APIKeyRecord) async throws { throw notYet("API keys") }
    public func apiKey(prefix: String) async throws -> APIKeyRecord? { throw notYet("API keys") }
    public func revokeAPIKey(prefix: String, at: Date) async throws { throw notYet("API keys") }
    public func createChip(_ chip: Chip) async throws { throw notYet("chips") }
    public func chip(_ id: ChipID) async throws -> Chip? { throw notYet("chips") }
    public func chips(of tenant: TenantID) async throws -> [Chip] { throw notYet("chips") }
    public func allChips() async throws -> [Chip] { throw notYet("chips") }
    public func updateChip(_ chip: Chip) async throws { throw notYet("chips") }
    public func deleteChip(_ id: ChipID, event: OutboxEntry?) async throws { throw notYet("chips") }
    public func leasePort(in range: PortRange, host: String, for makeWorker: @Sendable (Int) -> Worker) async throws -> Worker {
        throw notYet("port leases")
    }
    public func worker(_ id: WorkerID) async throws -> Worker? { throw notYet("workers") }
    public func workers() async throws -> [Worker] { throw notYet("workers") }
    public func updateWorker(_ worker: Worker) async throws { throw notYet("workers") }
    public func removeWorker(_ id: WorkerID) async throws { throw notYet("workers") }
    public func portLeases() async throws -> [PortLease] { throw notYet("port leases") }
    public func insertProxyLease(_ lease: ProxyLease) async throws { throw notYet("proxy leases") }
    public func proxyLease(of chip: ChipID) async throws -> ProxyLease? { throw notYet("proxy leases") }
    public func proxyLeases() async throws -> [ProxyLease] { throw notYet("proxy leases") }
    public func releaseProxyLease(of chip: ChipID) async throws { throw notYet("proxy leases") }
    public func enqueue(_ entries: [OutboxEntry]) async throws { throw notYet("the outbox") }
    public func dueEntries(now: Date, limit: Int) async throws -> [OutboxEntry] { throw notYet("the outbox") }
    public func acknowledge(_ id: EventID) async throws { throw notYet("the outbox") }
    public func reschedule(_ id: EventID, nextAttemptAt: Date, error: String) async throws { throw notYet("the outbox") }
    public func deadLetter(_ id: EventID, error: String) async throws { throw notYet("the outbox") }
    public func deadLetters(limit: Int) async throws -> [OutboxEntry] { throw notYet("the outbox") }
    public func seenBefore(requestID: String, at now: Date, window: Duration) async throws -> Bool { throw notYet("webhook dedupe") }

    private func notYet(_ records: String) -> WhagoError { .notImplemented(driver: "file", records) }
}

/// `store.file`.
struct FileStoreConfiguration: DriverConfiguration {
    /// The data directory; `nil` means `<server.dataDir>/store`.
    var path: String?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case path
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        path = try container.decodeIfPresent(NonEmptyString.self, forKey: .path)?.value
    }

    static let sample = """
        file:
          # path: .whago/store           # the data directory (default: <server.dataDir>/store)
        """
}
