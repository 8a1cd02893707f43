import Foundation
import Synchronization
import WhagoCore

/// An exclusive lock on a file in a data directory, naming the process that holds it.
///
/// A POSIX record lock (`fcntl(F_SETLK)`) belongs to the process, not to an open file
/// description, so a child spawned between `open` and `close` — even one that has not reached
/// `exec` yet — never holds it, and the lock dies with the process, so a crashed daemon never
/// leaves a stale lock behind. Record locks do not exclude the process that holds them, so an
/// in-process registry refuses a second open of the same file by this process. Closing any
/// descriptor of a locked file drops the lock, so nothing but this type opens the lock file.
final class DirectoryLock: Sendable {
    /// The lock files this process holds, by device and inode (a path can have several spellings).
    private static let held = Mutex<Set<FileIdentity>>([])

    private struct FileIdentity: Hashable {
        var device: UInt64
        var inode: UInt64

        init(_ info: stat) {
            device = UInt64(info.st_dev)
            inode = UInt64(info.st_ino)
        }
    }

    private let state: Mutex<(descriptor: Int32, identity: FileIdentity)?>
    let path: String

    init(path: String) throws {
        self.path = path
        // The registry is consulted before the file is opened: opening and closing a descriptor of
        // a file this process has locked would drop that lock.
        state = Mutex(try Self.held.withLock { held in
            var existing = stat()
            if stat(path, &existing) == 0, held.contains(FileIdentity(existing)) {
                throw Self.lockedError(path: path, holder: "\(getpid())")
            }
            let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
            guard fd >= 0 else {
                throw WhagoError(.unavailable, "cannot open the lock file '\(path)': \(String(cString: strerror(errno)))")
            }
            var info = stat()
            var request = Self.writeLock()
            guard fstat(fd, &info) == 0, fcntl(fd, F_SETLK, &request) == 0 else {
                let reason = errno
                var probe = Self.writeLock()
                let holder = fcntl(fd, F_GETLK, &probe) == 0 && probe.l_type != Int16(F_UNLCK) ? "\(probe.l_pid)" : "unknown"
                close(fd)
                guard reason == EAGAIN || reason == EACCES else {
                    throw WhagoError(.unavailable, "cannot lock '\(path)': \(String(cString: strerror(reason)))")
                }
                throw Self.lockedError(path: path, holder: holder)
            }
            let identity = FileIdentity(info)
            held.insert(identity)
            let pid = Array("\(getpid())\n".utf8)
            _ = ftruncate(fd, 0)
            _ = pwrite(fd, pid, pid.count, 0)
            return (fd, identity)
        })
    }

    /// A write lock on the whole file.
    private static func writeLock() -> flock {
        var request = flock()
        request.l_type = Int16(F_WRLCK)
        request.l_whence = Int16(SEEK_SET)
        return request
    }

    private static func lockedError(path: String, holder: String) -> WhagoError {
        WhagoError(.locked, "'\(path)' is locked by another whago (pid \(holder)); stop it, or give this one another data directory")
    }

    /// Releases the lock; idempotent.
    func release() {
        state.withLock { held in
            guard let (fd, identity) = held else { return }
            close(fd)
            Self.held.withLock { _ = $0.remove(identity) }
            held = nil
        }
    }

    deinit { release() }
}
