import Foundation
import WhagoCore

/// Where the simulator keeps its sessions across restarts, as WAHA keeps them in its volume or
/// in a database.
protocol SessionStorage: Sendable {
    /// The kept sessions. Called once, before the first ``save(_:)``.
    func load() async throws -> [SimulatedSession]
    /// Keeps `sessions` (all of them) in the background; the latest call wins.
    func save(_ sessions: [SimulatedSession])
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

    func save(_ sessions: [SimulatedSession]) {
        guard let data = try? JSONEncoder().encode(sessions.sorted { $0.name < $1.name }) else { return }
        // Atomic, not fsynced: a worker's sessions survive its process (rename is atomic), and an
        // fsync would hold one of the server's cooperative threads for as long as the disk is busy.
        try? PrivateFile.write(data, to: file, durable: false)
    }
}
