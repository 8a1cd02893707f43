import Foundation
import Glibc
import WhagoCore

/// What the `local` runtime keeps about one worker, in `<workDir>/<name>/`:
/// `worker.json` (spec and labels), `pid` (pid and start time, proving the process is ours),
/// `exit` (the last exit code), `stopped` (stopped on purpose: no restart), `worker.log`, `data/`.
struct WorkerFiles: Sendable {
    let directory: String

    var record: String { "\(directory)/worker.json" }
    var pidFile: String { "\(directory)/pid" }
    var exitFile: String { "\(directory)/exit" }
    var stoppedFile: String { "\(directory)/stopped" }
    var log: String { "\(directory)/worker.log" }
    var data: String { "\(directory)/data" }
}

/// The persisted description of a worker.
struct WorkerRecord: Codable, Sendable, Equatable {
    var name: String
    var command: [String]
    var environment: [String: String]
    var labels: [String: String]
    var hostPort: Int
}

/// A process this runtime started, identified beyond its pid: a pid is reused by the kernel, the
/// pair (pid, start time) is not, and the command line must be the worker's.
struct ProcessIdentity: Codable, Sendable, Equatable {
    var pid: Int32
    /// Field 22 of `/proc/<pid>/stat`: clock ticks after boot when the process started.
    var startTime: UInt64
    var startedAt: Date

    /// The identity of a running process, read from `/proc`.
    static func current(pid: Int32) -> (startTime: UInt64, arguments: [String])? {
        guard let stat = ProcFile.text("/proc/\(pid)/stat"),
              let close = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        // fields[0] is the state (field 3), so field 22 is fields[19].
        guard fields.count > 19, fields[0] != "Z", let start = UInt64(fields[19]) else { return nil }
        guard let cmdline = ProcFile.read("/proc/\(pid)/cmdline") else { return nil }
        let arguments = cmdline.split(separator: 0, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
        return (start, arguments.last == "" ? Array(arguments.dropLast()) : arguments)
    }

    /// The environment variable every worker process carries: its directory, so that a worker
    /// started by a whago that died before writing its pid file is found again, not started twice.
    static let marker = "WHAGO_WORKER_DIR"

    /// A live process running `command` whose environment names the worker directory `directory`.
    static func find(directory: String, running command: [String]) -> ProcessIdentity? {
        let wanted = Array("\(marker)=\(directory)".utf8)
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let pid = Int32(entry), pid != getpid(),
                  let environ = ProcFile.read("/proc/\(entry)/environ"),
                  environ.split(separator: 0).contains(where: { $0.elementsEqual(wanted) }),
                  let current = current(pid: pid) else { continue }
            let identity = ProcessIdentity(pid: pid, startTime: current.startTime, startedAt: Date())
            if identity.isAlive(running: command) { return identity }
        }
        return nil
    }

    /// Whether this process has finished exiting: gone, a zombie, or its pid reused. Stricter than
    /// `!isAlive(running:)`, which turns true as soon as an exiting process has dropped its memory
    /// (its command line reads empty) — before it has closed its files, so while it may still
    /// hold its port.
    var hasEnded: Bool {
        guard let stat = ProcFile.text("/proc/\(pid)/stat"),
              let close = stat.lastIndex(of: ")") else { return true }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 19, fields[0] != "Z", fields[0] != "X", let start = UInt64(fields[19]) else { return true }
        return start != startTime
    }

    /// Whether this identity is a live process running `command` — the only processes this runtime signals.
    func isAlive(running command: [String]) -> Bool {
        guard let current = Self.current(pid: pid), current.startTime == startTime else { return false }
        return current.arguments == command || current.arguments.dropFirst() == command.dropFirst()
    }
}

/// Starting processes: a new session (so they outlive whago), output appended to a private log file,
/// no descriptor of whago's inherited beyond standard input, output and error.
enum Spawner {
    /// glibc's `posix_spawn_file_actions_addclosefrom_np` (2.34+): declared only under `_GNU_SOURCE`,
    /// which Swift's Glibc module lacks, so it is looked up by name.
    private static let addCloseFrom: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32)? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32).self)
    }()

    /// Starts the executable at the absolute path `program` with `command` as its arguments.
    static func spawn(program: String, _ command: [String], environment: [String: String], log: String) throws -> Int32 {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, log, O_WRONLY | O_CREAT | O_APPEND, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        // Descriptors whago opened without O_CLOEXEC (a library's, a race with another spawn)
        // must not reach an untrusted worker.
        guard let closeFrom = Self.addCloseFrom, closeFrom(&actions, 3) == 0 else {
            throw WhagoError(.unavailable, "cannot start workers: this C library cannot close inherited descriptors "
                + "(posix_spawn_file_actions_addclosefrom_np, glibc 2.34 or newer)")
        }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // POSIX_SPAWN_SETSID (0x80 in glibc) is hidden behind _GNU_SOURCE, which Swift's Glibc lacks.
        let setsid: Int32 = 0x80
        posix_spawnattr_setflags(&attributes, Int16(setsid | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        var defaults = sigset_t()
        sigfillset(&defaults)
        posix_spawnattr_setsigdefault(&attributes, &defaults)

        let argv = command.map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, program, &actions, &attributes, argv, envp)
        guard result == 0 else {
            throw WhagoError(.unavailable, "cannot start '\(program)': \(String(cString: strerror(result)))")
        }
        return pid
    }
}

/// An exclusive `flock` on a file, between processes; waited for without holding a thread.
final class LaunchLock: Sendable {
    let descriptor: Int32

    private init(descriptor: Int32) { self.descriptor = descriptor }

    static func acquire(_ path: String, within limit: Duration = .seconds(60)) async throws -> LaunchLock {
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw WhagoError(.unavailable, "cannot open the launch lock \(path): \(String(cString: strerror(errno)))")
        }
        let deadline = ContinuousClock.now + limit
        while flock(descriptor, LOCK_EX | LOCK_NB) != 0 {
            guard errno == EWOULDBLOCK || errno == EINTR, ContinuousClock.now < deadline else {
                close(descriptor)
                throw WhagoError(.timedOut, "another whago process held the launch lock \(path) for \(limit)")
            }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return LaunchLock(descriptor: descriptor)
    }

    func release() {
        flock(descriptor, LOCK_UN)
        close(descriptor)
    }
}
