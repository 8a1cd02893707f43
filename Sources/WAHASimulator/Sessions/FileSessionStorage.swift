import Foundation
import WhagoCore

/// Where the simulator keeps its sessions across restarts, as WAHA keeps them in its volume or
/// in a database. A database may be shared by several workers (WAHA's
/// `WHATSAPP_SESSIONS_POSTGRESQL_URL`): then every worker sees, deletes and can take over the
/// sessions the others keep there, as WAHA's session manager does with a shared store.
protocol SessionStorage: Sendable {
    /// This worker's kept sessions. Called once, before the first ``save(_:fresh:)``.
    func load() async throws -> [SimulatedSession]
    /// Keeps `sessions` (all of this worker's) in the background; the latest call wins. `fresh`
    /// names sessions this worker created or took over since its last call: only those may be
    /// written where no row is kept (a session another worker deleted is not written back).
    func save(_ sessions: [SimulatedSession], fresh: Set<String>)
    /// The sessions other workers keep in a shared store (none for a worker's own volume).
    func others() async throws -> [SimulatedSession]
    /// Takes over a session kept by another worker (or by none): it becomes this worker's.
    func take(_ name: String) async throws -> SimulatedSession?
    /// Deletes a session whatever worker keeps it; whether one was there.
    func remove(_ name: String) async throws -> Bool
    /// Returns once what was saved before the call is written (or could not be): an engine keeps
    /// its auth before it reports the session WORKING.
    func flush() async
    /// In a shared store, the names this worker keeps there (those saved but not written yet
    /// included): a stopped session missing from them was deleted by another worker. nil for a
    /// worker's own volume.
    func kept() async throws -> Set<String>?
}

/// Sessions kept in `<data>/sessions.json`, written whole (temp file, fsync, rename) on every change.
/// They hold webhook HMAC keys and proxy passwords: the file is 0600 in a 0700 directory.
struct FileSessionStorage: SessionStorage {
    let file: String

    init(directory: String) throws {
        try PrivateFile.makeDirectory(directory)
        file = "\(directory)/sessions.json"
    }

    func load() async throws -> [SimulatedSession] {
        guard let data = FileManager.default.contents(atPath: file) else { return [] }
        return try JSONDecoder().decode([SimulatedSession].self, from: data)
    }

    func save(_ sessions: [SimulatedSession], fresh: Set<String>) {
        guard let data = try? JSONEncoder().encode(sessions.sorted { $0.name < $1.name }) else { return }
        // Atomic, not fsynced: a worker's sessions survive its process (rename is atomic), and an
        // fsync would hold one of the server's cooperative threads for as long as the disk is busy.
        try? PrivateFile.write(data, to: file, durable: false)
    }

    // A volume is this worker's alone.
    func others() async throws -> [SimulatedSession] { [] }
    func take(_ name: String) async throws -> SimulatedSession? { nil }
    func remove(_ name: String) async throws -> Bool { false }
    func kept() async throws -> Set<String>? { nil }
    // Written before save returns.
    func flush() async {}
}
