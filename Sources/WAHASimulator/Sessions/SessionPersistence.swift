import Foundation

/// Sessions kept in `<data>/sessions.json`, written whole (temp file, fsync, rename) on every change.
struct SessionPersistence: Sendable {
    let file: String

    init(directory: String) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        file = "\(directory)/sessions.json"
    }

    func load() throws -> [SimulatedSession] {
        guard let data = FileManager.default.contents(atPath: file) else { return [] }
        return try JSONDecoder().decode([SimulatedSession].self, from: data)
    }

    func save(_ sessions: [SimulatedSession]) {
        guard let data = try? JSONEncoder().encode(sessions.sorted { $0.name < $1.name }) else { return }
        let temporary = file + ".tmp"
        guard FileManager.default.createFile(atPath: temporary, contents: data) else { return }
        let fd = open(temporary, O_RDONLY)
        if fd >= 0 {
            fsync(fd)
            close(fd)
        }
        _ = rename(temporary, file)
    }
}
