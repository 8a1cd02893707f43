public import WhagoCore
import Foundation
import Synchronization

/// The `local` runtime: workers as processes (by default this whago binary running `waha-sim`).
///
/// The embedded default, for development and for trying whago without Docker. Each worker runs in
/// a session of its own, so it outlives a crash of whago; its files live in `<workDir>/<name>/`
/// (record, pid file, log, data). A restarted whago re-adopts running workers through their pid
/// files, and signals a pid only when `/proc` proves it is that worker (same start time, same
/// command line). Exits are reported as events and the restart policy is applied.
public actor LocalProcessRuntime: ContainerRuntime {
    /// The registration entry.
    public static let driver = Driver<any ContainerRuntime>(
        kind: .runtime, name: "local",
        summary: "WAHA workers as child processes (default: this whago binary running waha-sim)",
        sampleConfig: LocalProcessConfiguration.sample,
        configuration: LocalProcessConfiguration.self
    ) { configuration, context in
        LocalProcessRuntime(configuration: configuration, dataDirectory: context.dataDirectory)
    }

    let command: [String]
    let workDirectory: String
    let configuration: LocalProcessConfiguration
    /// Workers whose exit this instance watches, by name.
    private var watched: [String: (identity: ProcessIdentity, record: WorkerRecord)] = [:]
    /// Pids this instance started (and so must reap).
    private var children: Set<Int32> = []
    private let subscribers = Subscribers()
    private var monitor: Task<Void, Never>?
    /// Set by ``shutdown()``: no monitor starts again.
    private var closed = false

    init(configuration: LocalProcessConfiguration, dataDirectory: String) {
        self.configuration = configuration
        self.command = configuration.command ?? [Self.currentExecutable(), "waha-sim"]
        // Absolute, so that workers' marker (WHAGO_WORKER_DIR) and records name the same place
        // whatever directory a later whago (or an operator's ps) looks from.
        let directory = configuration.workDir ?? "\(dataDirectory)/workers"
        self.workDirectory = directory.hasPrefix("/") ? directory : FileManager.default.currentDirectoryPath + "/" + directory
    }

    /// A runtime over `workDirectory` running `command` (tests and embedding).
    public init(command: [String], workDirectory: String, restart: String = "on-failure", ports: PortRange = PortRange("3100-3199")!,
                stopGrace: Duration = .seconds(10)) {
        var configuration = LocalProcessConfiguration()
        configuration.ports = ports
        configuration.stopGrace = TimeSpan(stopGrace)
        configuration.command = command
        configuration.workDir = workDirectory
        configuration.restart = LocalProcessConfiguration.RestartPolicy(rawValue: restart) ?? .onFailure
        self.init(configuration: configuration, dataDirectory: workDirectory)
    }

    /// This process's own executable, so the default worker is the same whago build.
    static func currentExecutable() -> String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }

    public func healthCheck() async -> HealthReport {
        guard let program = command.first, let path = Self.resolve(program) else {
            return .error("worker command '\(command.first ?? "")' not found",
                          fix: "set runtime.local.command to an executable path, e.g. [/usr/local/bin/whago, waha-sim]")
        }
        guard FileManager.default.isExecutableFile(atPath: path) else {
            return .error("worker command '\(path)' is not executable", fix: "chmod +x \(path)")
        }
        // Checked, not created (`whago doctor` runs this too, and writes nothing): the first launch creates it.
        var existing = URL(fileURLWithPath: workDirectory)
        while !FileManager.default.fileExists(atPath: existing.path), existing.path != "/" { existing.deleteLastPathComponent() }
        guard FileManager.default.isWritableFile(atPath: existing.path) else {
            let what = existing.path == workDirectory ? "the workers' directory '\(workDirectory)' is not writable"
                : "the workers' directory '\(workDirectory)' cannot be created: '\(existing.path)' is not writable"
            return .error(what, fix: "set runtime.local.workDir to a writable directory")
        }
        return .ok("workers run '\(([path] + command.dropFirst()).joined(separator: " "))' on ports \(configuration.ports), data in \(workDirectory)")
    }

    /// The absolute path of a program: a path (relative to the current directory) as it is, a bare
    /// name through `PATH`.
    static func resolve(_ program: String) -> String? {
        if program.contains("/") {
            let absolute = program.hasPrefix("/") ? program : FileManager.default.currentDirectoryPath + "/" + program
            return FileManager.default.isExecutableFile(atPath: absolute) ? absolute : nil
        }
        let paths = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin").split(separator: ":")
        return paths.map { "\($0)/\(program)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    public nonisolated var workerPorts: WorkerPorts {
        WorkerPorts(host: configuration.host, range: configuration.ports, setting: "runtime.local.ports")
    }

    public func ping() async throws -> RuntimeInfo {
        RuntimeInfo(driver: "local", version: ProcessInfo.processInfo.operatingSystemVersionString)
    }

    // MARK: Workers

    private func files(_ name: String) -> WorkerFiles { WorkerFiles(directory: "\(workDirectory)/\(name)") }

    private func readRecord(_ name: String) -> WorkerRecord? {
        FileManager.default.contents(atPath: files(name).record).flatMap { try? JSONDecoder().decode(WorkerRecord.self, from: $0) }
    }

    private func readIdentity(_ name: String) -> ProcessIdentity? {
        FileManager.default.contents(atPath: files(name).pidFile).flatMap { try? JSONDecoder().decode(ProcessIdentity.self, from: $0) }
    }

    /// The worker's process when it is running and provably ours: the one its pid file names, or
    /// (when whago died between starting it and writing that file) the one whose environment
    /// names the worker's directory, which then gets its pid file.
    private func liveIdentity(_ name: String, _ record: WorkerRecord) -> ProcessIdentity? {
        if let identity = readIdentity(name), identity.isAlive(running: record.command) { return identity }
        guard let found = ProcessIdentity.find(directory: files(name).directory, running: record.command) else { return nil }
        try? PrivateFile.write(try JSONEncoder().encode(found), to: files(name).pidFile, durable: false)
        return found
    }

    public func launch(_ spec: WorkerSpec) async throws -> WorkerHandle {
        guard !spec.name.isEmpty, !spec.name.allSatisfy({ $0 == "." }),
              spec.name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }) else {
            throw WhagoError(.invalidConfig, "worker name '\(WorkerText.clean(spec.name, limit: 64))' must be ASCII letters, digits, "
                + "'-', '_' and '.', and not '.' or '..'")
        }
        // Several whago processes may share this directory (replicas on one host): one launch
        // of a name at a time among them, or two could each find no worker and start one.
        try PrivateFile.makeDirectory(workDirectory)
        let lock = try await LaunchLock.acquire("\(workDirectory)/.\(spec.name).lock")
        defer { lock.release() }
        let files = self.files(spec.name)
        let record = WorkerRecord(name: spec.name, command: spec.command ?? command, environment: spec.environment,
                                  labels: spec.labels, hostPort: spec.hostPort)
        if let existing = readRecord(spec.name) {
            guard existing.labels == spec.labels else {
                throw WhagoError(.conflict, "a local worker named \(spec.name) exists with other labels; it is not whago's to take over")
            }
            if let identity = liveIdentity(spec.name, existing) {
                watch(spec.name, identity, existing)
                return handle(existing)
            }
            // A process still exiting holds the port its successor needs: let it finish first.
            if let exiting = readIdentity(spec.name) {
                let deadline = ContinuousClock.now + .seconds(5)
                while !exiting.hasEnded, ContinuousClock.now < deadline {
                    _ = reap(exiting.pid)
                    try await Task.sleep(for: .milliseconds(10))
                }
            }
        }
        // The record holds the worker's environment (its API key): private, as the log is.
        try PrivateFile.makeDirectory(files.directory)
        try PrivateFile.makeDirectory(files.data)
        // Not fsynced: this runs on the runtime's actor (a cooperative thread), and the record only
        // matters while the machine is up (after a power loss its process is gone; the
        // orchestrator launches the same spec again).
        try PrivateFile.write(try JSONEncoder().encode(record), to: files.record, durable: false)
        try? FileManager.default.removeItem(atPath: files.stoppedFile)
        try await start(record)
        return handle(record)
    }

    private func start(_ record: WorkerRecord) async throws {
        let files = self.files(record.name)
        var environment = record.environment
        environment["PORT"] = "\(record.hostPort)"
        environment["WAHA_SIM_HOST"] = configuration.host
        environment["WAHA_LOCAL_STORE_BASE_DIR"] = files.data
        environment[ProcessIdentity.marker] = files.directory
        environment["PATH"] = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        // The program found now, by absolute path: what runs is what `doctor` checked, whatever
        // the worker's own environment says.
        guard let program = record.command.first.flatMap(Self.resolve) else {
            throw WhagoError(.notFound, "worker command '\(record.command.first ?? "")' not found on PATH")
        }
        let pid = try Spawner.spawn(program: program, record.command, environment: environment, log: files.log)
        children.insert(pid)
        // posix_spawn returns while the child is still inside exec, its command line not yet
        // readable: wait for it (microseconds, a second at most), so that the worker is
        // recognised as running the moment it is reported started.
        let execDeadline = ContinuousClock.now + .seconds(1)
        while ProcessIdentity.current(pid: pid)?.arguments.isEmpty ?? false, ContinuousClock.now < execDeadline {
            try await Task.sleep(for: .milliseconds(1))
        }
        let startTime = ProcessIdentity.current(pid: pid)?.startTime ?? 0
        let identity = ProcessIdentity(pid: pid, startTime: startTime, startedAt: Date())
        try PrivateFile.write(try JSONEncoder().encode(identity), to: files.pidFile, durable: false)
        watch(record.name, identity, record)
        emit(RuntimeEvent(handle: handle(record), kind: .started))
    }

    private func handle(_ record: WorkerRecord) -> WorkerHandle {
        WorkerHandle(runtimeID: record.name, name: record.name, labels: record.labels)
    }

    public func inspect(_ handle: WorkerHandle) async throws -> WorkerState? {
        guard let record = readRecord(handle.name) else { return nil }
        if let identity = liveIdentity(handle.name, record) {
            watch(handle.name, identity, record)
            return WorkerState(status: .running, startedAt: identity.startedAt)
        }
        let code = (try? String(contentsOfFile: files(handle.name).exitFile, encoding: .utf8)).flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        return WorkerState(status: .exited, exitCode: code)
    }

    public func stop(_ handle: WorkerHandle, grace: Duration) async throws {
        guard let record = readRecord(handle.name) else { return }
        FileManager.default.createFile(atPath: files(handle.name).stoppedFile, contents: Data())
        guard let identity = liveIdentity(handle.name, record) else { return }
        // The worker leads a session and process group of its own (setsid): signal the whole group,
        // so what it started goes with it.
        kill(-identity.pid, SIGTERM)
        let deadline = ContinuousClock.now + grace
        // Until it has finished exiting (its port closed), not merely stopped running the command.
        while !identity.hasEnded {
            reap(identity.pid)
            if ContinuousClock.now >= deadline, identity.isAlive(running: record.command) {
                kill(-identity.pid, SIGKILL)
            }
            if ContinuousClock.now >= deadline + .seconds(30) {
                throw WhagoError(.timedOut, "local worker \(handle.name) (pid \(identity.pid)) did not finish exiting "
                    + "within \(grace) + 30s of being stopped")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        reap(identity.pid)
        await checkWatched()
    }

    public func remove(_ handle: WorkerHandle) async throws {
        try await stop(handle, grace: configuration.stopGrace.duration)
        let files = self.files(handle.name)
        for path in [files.record, files.pidFile, files.exitFile, files.stoppedFile, files.log] {
            try? FileManager.default.removeItem(atPath: path)
        }
        watched[handle.name] = nil
    }

    public func list(labels: [String: String]) async throws -> [WorkerHandle] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: workDirectory)) ?? []
        return names.sorted().compactMap { name -> WorkerHandle? in
            guard let record = readRecord(name), labels.allSatisfy({ record.labels[$0.key] == $0.value }) else { return nil }
            if let identity = liveIdentity(name, record) { watch(name, identity, record) }
            return handle(record)
        }
    }

    /// Events from the moment of the call on (the subscription is registered before it returns).
    public nonisolated func events() -> AsyncThrowingStream<RuntimeEvent, any Error> {
        let (stream, continuation) = AsyncThrowingStream<RuntimeEvent, any Error>.makeStream()
        let id = subscribers.add(continuation)
        let subscribers = self.subscribers
        continuation.onTermination = { _ in subscribers.remove(id) }
        Task { await self.startMonitor() }
        return stream
    }

    private func emit(_ event: RuntimeEvent) {
        subscribers.yield(event)
    }

    // MARK: Watching exits

    private func watch(_ name: String, _ identity: ProcessIdentity, _ record: WorkerRecord) {
        watched[name] = (identity, record)
        startMonitor()
    }

    /// Stops watching workers (they keep running: they outlive whago by design) and ends the
    /// event streams.
    public func shutdown() async {
        closed = true
        monitor?.cancel()
        monitor = nil
        subscribers.finishAll()
    }

    private func startMonitor() {
        guard monitor == nil, !closed else { return }
        monitor = Task { [weak self] in
            while !Task.isCancelled {
                guard let self else { return }
                await self.checkWatched()
                try? await Task.sleep(for: .milliseconds(100))
            }
        }
    }

    /// Collects the exit status of a child this instance started.
    @discardableResult
    private func reap(_ pid: Int32) -> Int? {
        guard children.contains(pid) else { return nil }
        var status: Int32 = 0
        guard waitpid(pid, &status, WNOHANG) == pid else { return nil }
        children.remove(pid)
        return (status & 0x7F) == 0 ? Int((status >> 8) & 0xFF) : 128 + Int(status & 0x7F)
    }

    private func checkWatched() async {
        for (name, entry) in watched {
            let code = reap(entry.identity.pid)
            // Ended, not merely no longer running the command: an exiting process still holds
            // its port for a moment, and a restart before it lets go would fail to bind.
            guard code != nil || entry.identity.hasEnded else { continue }
            watched[name] = nil
            let files = self.files(name)
            if let code { try? "\(code)\n".write(toFile: files.exitFile, atomically: true, encoding: .utf8) }
            try? FileManager.default.removeItem(atPath: files.pidFile)
            emit(RuntimeEvent(handle: handle(entry.record), kind: .exited(code: code)))
            let stoppedOnPurpose = FileManager.default.fileExists(atPath: files.stoppedFile)
            let restart = switch configuration.restart {
            case .always: true
            case .onFailure: code != 0
            case .never: false
            }
            if restart, !stoppedOnPurpose, readRecord(name) == entry.record {
                try? await start(entry.record)
            }
        }
    }
}

/// The event subscribers, registered and read under a lock so that `events()` needs no hop.
final class Subscribers: Sendable {
    private let continuations = Mutex<[UUID: AsyncThrowingStream<RuntimeEvent, any Error>.Continuation]>([:])

    func add(_ continuation: AsyncThrowingStream<RuntimeEvent, any Error>.Continuation) -> UUID {
        let id = UUID()
        continuations.withLock { $0[id] = continuation }
        return id
    }

    /// Ends every stream (the runtime shut down).
    func finishAll() {
        let all = continuations.withLock { current in
            defer { current = [:] }
            return current
        }
        for continuation in all.values { continuation.finish() }
    }

    func remove(_ id: UUID) {
        _ = continuations.withLock { $0.removeValue(forKey: id) }
    }

    func yield(_ event: RuntimeEvent) {
        for continuation in continuations.withLock({ Array($0.values) }) { continuation.yield(event) }
    }
}

/// `runtime.local`.
struct LocalProcessConfiguration: DriverConfiguration {
    enum RestartPolicy: String, Decodable, CaseIterable {
        case never, always
        case onFailure = "on-failure"
    }

    /// The worker command; `nil` means this whago binary with `waha-sim`.
    var command: [String]?
    var host: String
    var ports: PortRange
    /// Where each worker's data and log live; `nil` means `<server.dataDir>/workers`.
    var workDir: String?
    var restart: RestartPolicy
    var stopGrace: TimeSpan

    enum CodingKeys: String, CodingKey, CaseIterable {
        case command, host, ports, workDir, restart, stopGrace
    }

    init() {
        host = "127.0.0.1"
        ports = PortRange("3100-3199")!
        restart = .onFailure
        stopGrace = .seconds(10)
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        command = try container.decodeIfPresent([NonEmptyString].self, forKey: .command)?.map(\.value)
        if command?.isEmpty == true { throw ConfigValueError("'command' must name a program") }
        host = try container.decodeIfPresent(NonEmptyString.self, forKey: .host)?.value ?? "127.0.0.1"
        ports = try container.decodeIfPresent(PortRange.self, forKey: .ports) ?? PortRange("3100-3199")!
        workDir = try container.decodeIfPresent(NonEmptyString.self, forKey: .workDir)?.value
        restart = try container.decodeIfPresent(RestartPolicy.self, forKey: .restart) ?? .onFailure
        stopGrace = try container.decodeIfPresent(TimeSpan.self, forKey: .stopGrace) ?? .seconds(10)
    }

    static let sample = """
        local:
          # command: [/usr/local/bin/whago, waha-sim]   # default: this whago binary with waha-sim
          host: 127.0.0.1                # workers listen here
          ports: 3100-3199               # ports leased to workers, one each
          # workDir: .whago/workers      # per-worker data and logs (default: <server.dataDir>/workers)
          restart: on-failure            # never, always, on-failure
          stopGrace: 10s                 # SIGTERM, then SIGKILL after this
        """
}
