import Foundation
import WhagoCore

extension FileStore {
    /// What `whago doctor` says of a data directory, reading only: whether it exists or can be
    /// created, whether whago can write it, what it holds, and whether a running whago has it open
    /// (that is information, not a fault). It creates, opens for writing and locks nothing.
    static func inspect(directory: String) -> HealthReport {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) else {
            if let ancestor = nearestExisting(above: directory), !FileManager.default.isWritableFile(atPath: ancestor) {
                return .error("store directory '\(directory)' does not exist and cannot be created: '\(ancestor)' is not writable",
                              fix: "create it for whago's user, or set store.file.path")
            }
            return .ok("store directory '\(directory)' does not exist yet: whago creates it (mode 0700) at its first start")
        }
        guard isDirectory.boolValue else {
            return .error("store path '\(directory)' is not a directory", fix: "set store.file.path to a directory")
        }
        guard FileManager.default.isWritableFile(atPath: directory) else {
            return .error("store directory '\(directory)' is not writable", fix: "fix its permissions or set store.file.path")
        }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        let logs = names.filter { $0.hasPrefix("wal-") && $0.hasSuffix(".log") }
        let bytes = names.reduce(Int64(0)) { total, name in
            total + ((try? FileManager.default.attributesOfItem(atPath: "\(directory)/\(name)")[.size] as? NSNumber)?.int64Value ?? 0)
        }
        let holds = names.contains("snapshot") || !logs.isEmpty
            ? "a snapshot and \(logs.count) log file\(logs.count == 1 ? "" : "s"), \(bytes / 1024) KiB"
            : "no state yet"
        if let pid = lockHolder("\(directory)/LOCK") {
            return .ok("store directory '\(directory)' (\(holds)) is in use by the running whago (pid \(pid))")
        }
        return .ok("store directory '\(directory)' (\(holds)), not in use")
    }

    /// The pid holding the lock of a data directory (see ``DirectoryLock``), or nil: asked of the
    /// kernel without taking the lock.
    private static func lockHolder(_ path: String) -> Int32? {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var probe = flock()
        probe.l_type = Int16(F_WRLCK)
        probe.l_whence = Int16(SEEK_SET)
        guard fcntl(descriptor, F_GETLK, &probe) == 0, probe.l_type != Int16(F_UNLCK) else { return nil }
        return probe.l_pid
    }

    private static func nearestExisting(above path: String) -> String? {
        var url = URL(fileURLWithPath: path).deletingLastPathComponent()
        while url.path != "/" {
            if FileManager.default.fileExists(atPath: url.path) { return url.path }
            url = url.deletingLastPathComponent()
        }
        return "/"
    }
}
