import Foundation
import WhagoCore

/// whago's own files in `server.dataDir`: the instance id and the generated admin token.
struct DataDirectory {
    let path: String

    /// Creates the directory (mode 0700: it holds secrets).
    init(path: String) throws {
        self.path = path
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw WhagoError(.unavailable, "cannot create the data directory '\(path)': \(error.localizedDescription)")
        }
    }

    var adminTokenPath: String { "\(path)/admin-token" }

    /// The entries of the data directory at `path` (itself included) that users other than
    /// their owner may read, write or enter; at most `limit` are looked at. The directory holds the
    /// admin token, the store and workers' keys, so `doctor` warns about each one.
    static func sharedEntries(in path: String, limit: Int = 10_000) -> [String] {
        guard FileManager.default.fileExists(atPath: path) else { return [] }
        var shared = PrivateFile.isShared(path) ? [path] : []
        let enumerator = FileManager.default.enumerator(atPath: path)
        var seen = 0
        while let relative = enumerator?.nextObject() as? String, seen < limit {
            seen += 1
            let full = "\(path)/\(relative)"
            var info = stat()
            // Symbolic links have no mode of their own (0777); what they point to is checked where it lives.
            guard lstat(full, &info) == 0, info.st_mode & S_IFMT != S_IFLNK, info.st_mode & S_IFMT != S_IFSOCK else { continue }
            if info.st_mode & 0o077 != 0 { shared.append(full) }
        }
        return shared
    }

    /// This installation's id, created on first start and kept, so containers stay recognisable.
    func instanceID() throws -> InstanceID {
        let file = "\(path)/instance-id"
        if let existing = try? String(contentsOfFile: file, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines),
           !existing.isEmpty {
            return InstanceID(existing)
        }
        let id = InstanceID.random(prefix: "wi")
        try writeNew(file, contents: id.rawValue + "\n", mode: 0o600)
        return id
    }

    /// The admin token in `<dataDir>/admin-token`, generated (256 random bits, mode 0600) when absent.
    /// Returns the token and whether it was generated now.
    func adminToken() throws -> (token: Secret, generated: Bool) {
        if FileManager.default.fileExists(atPath: adminTokenPath) {
            return (try Secret.load(fromFile: adminTokenPath), false)
        }
        let token = Hex.random()
        try writeNew(adminTokenPath, contents: token + "\n", mode: 0o600)
        return (Secret(token), true)
    }

    var masterKeyPath: String { "\(path)/master-key" }

    /// The master key in `<dataDir>/master-key`, generated (256 random bits, mode 0600) when absent.
    /// Returns the key and whether it was generated now.
    func masterKey() throws -> (key: Secret, generated: Bool) {
        if FileManager.default.fileExists(atPath: masterKeyPath) {
            return (try Secret.load(fromFile: masterKeyPath), false)
        }
        let key = SecretSealer.generateMasterKey()
        try writeNew(masterKeyPath, contents: key.revealed + "\n", mode: 0o600)
        return (key, true)
    }

    /// Writes a file that must not exist yet, with its final mode from the first byte on.
    private func writeNew(_ file: String, contents: String, mode: mode_t) throws {
        let fd = open(file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard fd >= 0 else {
            throw WhagoError(.unavailable, "cannot create '\(file)': \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        let bytes = Array(contents.utf8)
        guard write(fd, bytes, bytes.count) == bytes.count, fsync(fd) == 0 else {
            throw WhagoError(.unavailable, "cannot write '\(file)': \(String(cString: strerror(errno)))")
        }
    }
}
