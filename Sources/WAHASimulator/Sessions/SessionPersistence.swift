import Foundation
import WhagoCore

/// Sessions kept in `<data>/sessions.json`, written whole (temp file, fsync, rename) on every change.
/// They hold webhook HMAC keys and proxy passwords: the file is 0600 in a 0700 directory.
struct SessionPersistence: Sendable {
    let file: String

    init(directory: String) throws {
        try PrivateFile.makeDirectory(directory)
        file = "\(directory)/sessions.json"
    }

    func load() throws -> [SimulatedSession] {
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
