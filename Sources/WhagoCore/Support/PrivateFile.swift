import Foundation
import Glibc

/// Files that can hold a secret (worker records with API keys, logs, session state, the store):
/// created mode 0600 inside directories of mode 0700, whatever the umask, and written atomically
/// (a temporary file renamed over the old one), so no other user ever reads them, not even
/// while they are written.
public enum PrivateFile {
    /// Creates `path` (and missing parents) with mode 0700; an existing directory keeps its mode.
    public static func makeDirectory(_ path: String) throws {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
    }

    /// Replaces `path` with `bytes`, mode 0600, atomically and, unless `durable` is false, durably
    /// (fsynced before the rename). A non-durable write is still atomic when a process dies; only
    /// a machine that loses power may lose it — right for files about processes that die with it
    /// (pid files), and kinder to callers on Swift's cooperative threads, which an fsync blocks.
    public static func write(_ bytes: some Collection<UInt8>, to path: String, durable: Bool = true) throws {
        let temporary = "\(path).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw failure("create", temporary) }
        var ok = true
        let data = Array(bytes)
        var written = 0
        while written < data.count {
            let count = data[written...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if count < 0, errno == EINTR { continue }
            guard count > 0 else { ok = false; break }
            written += count
        }
        if ok, durable, fsync(fd) != 0 { ok = false }
        let error = errno
        close(fd)
        guard ok, rename(temporary, path) == 0 else {
            let reason = ok ? errno : error
            unlink(temporary)
            errno = reason
            throw failure("write", path)
        }
    }

    /// Whether `path` can be read or written by users other than its owner (group or others bits).
    public static func isShared(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && info.st_mode & 0o077 != 0
    }

    private static func failure(_ verb: String, _ path: String) -> WhagoError {
        WhagoError(.unavailable, "cannot \(verb) '\(path)': \(String(cString: strerror(errno)))")
    }
}
