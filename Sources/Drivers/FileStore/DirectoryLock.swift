import Foundation
import Synchronization
import WhagoCore

/// An exclusive `flock` on a file in a data directory, naming the process that holds it.
///
/// The lock dies with the process, so a crashed daemon never leaves a stale lock behind.
final class DirectoryLock: Sendable {
    private let descriptor: Mutex<Int32?>
    let path: String

    init(path: String) throws {
        self.path = path
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw WhagoError(.unavailable, "cannot open the lock file '\(path)': \(String(cString: strerror(errno)))")
        }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let reason = errno
            var buffer = [UInt8](repeating: 0, count: 32)
            let count = read(fd, &buffer, buffer.count)
            close(fd)
            guard reason == EWOULDBLOCK else {
                throw WhagoError(.unavailable, "cannot lock '\(path)': \(String(cString: strerror(reason)))")
            }
            let holder = String(decoding: buffer.prefix(max(count, 0)), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            throw WhagoError(.locked, "'\(path)' is locked by another whago (pid \(holder.isEmpty ? "unknown" : holder)); "
                + "stop it, or give this one another data directory")
        }
        let pid = Array("\(getpid())\n".utf8)
        _ = ftruncate(fd, 0)
        _ = pwrite(fd, pid, pid.count, 0)
        descriptor = Mutex(fd)
    }

    /// Releases the lock; idempotent.
    func release() {
        descriptor.withLock { fd in
            if let open = fd { close(open) }
            fd = nil
        }
    }

    deinit { release() }
}
