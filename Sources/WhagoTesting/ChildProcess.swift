import Foundation
import Synchronization

/// A child process whose standard output and error are captured as they come, for tests that run
/// the `whago` binary (or a service it talks to) as a real process.
///
/// `Process` is not `Sendable`; this class only touches it from its own methods, which Foundation
/// documents as thread-safe for `run`, `terminate`, `processIdentifier` and `isRunning`.
public final class ChildProcess: @unchecked Sendable {
    private let process = Process()
    private let stdout = OutputBuffer()
    private let stderr = OutputBuffer()

    /// Starts `executable` with `arguments`; `environment` is added to this process's environment.
    public init(_ executable: String, _ arguments: [String], environment: [String: String] = [:], directory: String? = nil) throws {
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        let outPipe = Pipe()
        let errPipe = Pipe()
        process.standardOutput = outPipe
        process.standardError = errPipe
        process.standardInput = FileHandle.nullDevice
        try process.run()
        for (pipe, buffer) in [(outPipe, stdout), (errPipe, stderr)] {
            let handle = pipe.fileHandleForReading
            Thread.detachNewThread {
                while true {
                    let data = handle.availableData
                    if data.isEmpty { break }
                    buffer.append(data)
                }
                buffer.finish()
            }
        }
    }

    /// The process id.
    public var pid: Int32 { process.processIdentifier }

    /// Everything written to standard output so far.
    public var standardOutput: String { stdout.text }

    /// Everything written to standard error so far.
    public var standardError: String { stderr.text }

    /// Sends a signal (e.g. `SIGTERM`).
    public func signal(_ signal: Int32) {
        kill(process.processIdentifier, signal)
    }

    /// Waits until standard output or error contains `text`; fails if the process exits first or
    /// `timeout` passes.
    public func waitForOutput(containing text: String, timeout: Duration = .seconds(30)) async throws {
        try await waitForOutput(timeout: timeout, "'\(text)'") { $0.contains(text) || $1.contains(text) }
    }

    /// Waits until `condition(stdout, stderr)` holds; fails if the process exits first or `timeout` passes.
    public func waitForOutput(timeout: Duration = .seconds(30), _ what: String = "the expected output",
                              until condition: (String, String) -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while !condition(standardOutput, standardError) {
            guard process.isRunning else {
                throw ChildProcessError("exited before printing \(what); stderr: \(standardError)")
            }
            guard ContinuousClock.now < deadline else {
                throw ChildProcessError("did not print \(what) within \(timeout); stderr: \(standardError)")
            }
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    /// How a process ended.
    public enum Termination: Sendable, Hashable, CustomStringConvertible {
        /// It exited by itself with this status.
        case exited(Int32)
        /// A signal ended it (`SIGKILL` from a test, or a crash: `SIGTRAP`, `SIGSEGV`, `SIGABRT`).
        case signaled(Int32)

        public var description: String {
            switch self {
            case .exited(let code): "exited with status \(code)"
            case .signaled(let signal): "ended by signal \(signal)"
            }
        }
    }

    /// Waits for the process to exit and its output to be read; returns its exit status (128 +
    /// the signal's number when a signal ended it). See ``waitForTermination(timeout:drain:)``.
    @discardableResult
    public func waitForExit(timeout: Duration = .seconds(60), drain: Duration = .seconds(10)) async throws -> Int32 {
        switch try await waitForTermination(timeout: timeout, drain: drain) {
        case .exited(let code): code
        case .signaled(let signal): 128 + signal
        }
    }

    /// Waits for the process to end and its output to be read; says whether it exited or a signal
    /// ended it, so a test that kills a process can tell its own kill from a crash. After
    /// `timeout` the process is killed and an error thrown. Never blocks a thread of the
    /// cooperative pool (it polls), so many children can be awaited at once.
    /// - Parameter drain: how long to wait, after the exit, for the end of the output; a process
    ///   that leaves a daemon holding its pipes (`pg_ctl start`) wants a short one.
    @discardableResult
    public func waitForTermination(timeout: Duration = .seconds(60), drain: Duration = .seconds(10)) async throws -> Termination {
        let deadline = ContinuousClock.now + timeout
        var reaped: Termination?
        while process.isRunning {
            // Reaped here, the output is still to be read: no early return.
            if let termination = reapIfZombie() {
                reaped = termination
                break
            }
            guard ContinuousClock.now < deadline else {
                kill(process.processIdentifier, SIGKILL)
                throw ChildProcessError("still running after \(timeout); killed. stderr: \(standardError)")
            }
            try await Task.sleep(for: .milliseconds(10))
        }
        // The rest of the output. The reader threads may be slow to run on a loaded machine, and
        // a daemon the process started may hold the pipes open forever (pg_ctl start): the wait
        // for their end is bounded.
        let drained = ContinuousClock.now + drain
        while (!stdout.isFinished || !stderr.isFinished) && ContinuousClock.now < drained {
            try await Task.sleep(for: .milliseconds(10))
        }
        if let reaped { return reaped }
        return process.terminationReason == .uncaughtSignal ? .signaled(process.terminationStatus) : .exited(process.terminationStatus)
    }

    /// Foundation sometimes never notices the exit of a child that forked a daemon (`runuser pg_ctl
    /// start`): the child stays a zombie. Reap it here and read its status ourselves.
    private func reapIfZombie() -> Termination? {
        let pid = process.processIdentifier
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")"), stat[stat.index(close, offsetBy: 2)] == "Z" else { return nil }
        var status: Int32 = 0
        guard waitpid(pid, &status, WNOHANG) == pid else { return nil }
        return (status & 0x7F) == 0 ? .exited((status >> 8) & 0xFF) : .signaled(status & 0x7F)
    }

    /// Runs a command to completion: its exit status and output.
    public static func run(_ executable: String, _ arguments: [String], environment: [String: String] = [:],
                           directory: String? = nil, timeout: Duration = .seconds(60),
                           drain: Duration = .seconds(10)) async throws -> (status: Int32, stdout: String, stderr: String) {
        let child = try ChildProcess(executable, arguments, environment: environment, directory: directory)
        let status = try await child.waitForExit(timeout: timeout, drain: drain)
        return (status, child.standardOutput, child.standardError)
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }
}

/// Bytes a reader thread appends while tests read them, until the pipe's end.
private final class OutputBuffer: Sendable {
    private let state = Mutex<(bytes: [UInt8], finished: Bool)>(([], false))

    func append(_ data: Data) { state.withLock { $0.bytes += data } }

    func finish() { state.withLock { $0.finished = true } }

    var isFinished: Bool { state.withLock { $0.finished } }

    var text: String { state.withLock { String(decoding: $0.bytes, as: UTF8.self) } }
}

/// A child process did not behave as a test expected.
public struct ChildProcessError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

/// Where the executables built with the tests are.
public enum WhagoBinary {
    /// `$WHAGO_BIN`, or `whago` beside the running test bundle (both are in the build directory).
    public static var path: String {
        ProcessInfo.processInfo.environment["WHAGO_BIN"] ?? sibling("whago")
    }

    /// `whago-bench`, which also holds the crash tests' writer.
    public static var bench: String { sibling("whago-bench") }

    private static func sibling(_ name: String) -> String {
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return URL(fileURLWithPath: executable).deletingLastPathComponent().appendingPathComponent(name).path
    }
}
