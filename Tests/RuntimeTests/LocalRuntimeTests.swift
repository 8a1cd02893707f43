import Foundation
import LocalProcessRuntime
import Synchronization
import Testing
import WhagoCore
import WhagoTesting

/// The conformance suite over a work directory of the test's own.
private func conformance(in workDirectory: TemporaryDirectory) -> RuntimeConformance {
    RuntimeConformance(
        make: { LocalProcessRuntime(command: [WhagoBinary.path, "waha-sim", "--time-scale", "50"], workDirectory: workDirectory.path, restart: "never") },
        spec: { name, port, labels, environment in
            WorkerSpec(name: name, image: "", environment: environment, labels: labels, hostPort: port, containerPort: port)
        },
        killFromOutside: { handle in
            let identity = try JSONDecoder().decode([String: Double].self,
                                                    from: Data(contentsOf: URL(fileURLWithPath: "\(workDirectory.path)/\(handle.name)/pid")))
            kill(Int32(identity["pid"] ?? 0), SIGKILL)
        },
        launchInAnotherProcess: { name, port in
            try ChildProcess(WhagoBinary.bench, ["runtime-launch", "local", workDirectory.path, name, "\(port)"])
        }
    )
}

/// Runs one conformance check in a work directory that is removed afterwards.
private func check(_ run: (RuntimeConformance) async throws -> Void) async throws {
    let directory = try TemporaryDirectory("local-runtime")
    defer { directory.remove() }
    try await run(conformance(in: directory))
}

@Suite("The local runtime passes the runtime conformance suite", .timeLimit(.minutes(10)))
struct LocalRuntimeTests {
    @Test func lifecycle() async throws { try await check { try await $0.lifecycle(port: try freePort()) } }
    @Test func idempotentLaunch() async throws { try await check { try await $0.idempotentLaunch(port: try freePort()) } }
    @Test func adoption() async throws { try await check { try await $0.adoption(port: try freePort()) } }
    @Test func killedFromOutside() async throws { try await check { try await $0.killedFromOutside(port: try freePort()) } }
    @Test func survivesCrashOfWhago() async throws { try await check { try await $0.survivesCrashOfWhago(port: try freePort()) } }

    @Test("a worker whose pid file was never written (whago killed right after starting it) is adopted, not started twice")
    func adoptsWithoutPidFile() async throws {
        let directory = try TemporaryDirectory("local-runtime-no-pid")
        defer { directory.remove() }
        let port = try freePort()
        let spec = WorkerSpec(name: "lost", image: "", labels: ["whago.worker": "lost"], hostPort: port, containerPort: port)
        let first = LocalProcessRuntime(command: [WhagoBinary.path, "waha-sim"], workDirectory: directory.path, restart: "never")
        let handle = try await first.launch(spec)
        // Started for real (past its exec): a whago killed right after the spawn itself is back
        // seconds later, not microseconds.
        let deadline = ContinuousClock.now + .seconds(30)
        while !acceptsConnections(port: port), ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        let pidFile = directory.file("lost/pid")
        let original = try JSONDecoder().decode([String: Double].self, from: Data(contentsOf: URL(fileURLWithPath: pidFile)))
        await first.shutdown()
        try FileManager.default.removeItem(atPath: pidFile)

        let second = LocalProcessRuntime(command: [WhagoBinary.path, "waha-sim"], workDirectory: directory.path, restart: "never")
        _ = try await second.launch(spec)
        let adopted = try JSONDecoder().decode([String: Double].self, from: Data(contentsOf: URL(fileURLWithPath: pidFile)))
        #expect(adopted["pid"] == original["pid"], "the running process is adopted")
        #expect(try await second.inspect(handle)?.status == .running)
        try await second.remove(handle)
        #expect(!processIsAlive(Int32(original["pid"] ?? 0)), "removing it stops the adopted process")
        await second.shutdown()
        kill(Int32(original["pid"] ?? 0), SIGKILL)
    }

    @Test("the on-failure restart policy brings a killed worker back; a stopped one stays stopped")
    func restartPolicy() async throws {
        let directory = try TemporaryDirectory("local-runtime-restart")
        defer { directory.remove() }
        let runtime = LocalProcessRuntime(command: [WhagoBinary.path, "waha-sim"], workDirectory: directory.path, restart: "on-failure")
        let events = runtime.events()
        let port = try freePort()
        let handle = try await runtime.launch(WorkerSpec(name: "phoenix", image: "", labels: ["whago.worker": "phoenix"], hostPort: port, containerPort: port))
        // Every event of the worker, as it comes (the launch's own start may or may not be seen,
        // as the subscription and the launch race).
        let seen = SeenEvents()
        let collector = Task { for try await event in events where event.handle.name == "phoenix" { seen.append(event.kind) } }
        defer { collector.cancel() }
        func startedAfterExit(from index: Int) -> Bool {
            let kinds = Array(seen.all.dropFirst(index))
            guard let exit = kinds.firstIndex(where: { if case .exited = $0 { true } else { false } }) else { return false }
            return kinds[exit...].contains(.started)
        }
        let first = try JSONDecoder().decode([String: Double].self, from: Data(contentsOf: URL(fileURLWithPath: directory.file("phoenix/pid"))))
        let killedAt = ContinuousClock.now
        kill(Int32(first["pid"] ?? 0), SIGKILL)
        let deadline = ContinuousClock.now + .seconds(30)
        while !startedAfterExit(from: 0) {
            guard ContinuousClock.now < deadline else { Issue.record("the killed worker was never started again: \(seen.all)"); return }
            try await Task.sleep(for: .milliseconds(10))
        }
        let restartTook = ContinuousClock.now - killedAt
        #expect(try await runtime.inspect(handle)?.status == .running)
        let second = try JSONDecoder().decode([String: Double].self, from: Data(contentsOf: URL(fileURLWithPath: directory.file("phoenix/pid"))))
        #expect(second["pid"] != first["pid"])

        let before = seen.all.count
        try await runtime.stop(handle, grace: .seconds(5))
        // Stays stopped: not at once, and not later either — watched for ten times as long as the
        // restart above took (two seconds at least, twenty passes of the runtime's monitor).
        try await expectStays("the stopped worker stays stopped", for: max(.seconds(2), restartTook * 10)) {
            try await runtime.inspect(handle)?.status == .exited && !startedAfterExit(from: before) && !acceptsConnections(port: port)
        }
        try await runtime.remove(handle)
    }

    @Test("a pid that is not provably the worker's is never signalled")
    func neverSignalsStrangers() async throws {
        let directory = try TemporaryDirectory("local-runtime-stranger")
        defer { directory.remove() }
        let runtime = LocalProcessRuntime(command: [WhagoBinary.path, "waha-sim"], workDirectory: directory.path)
        let stranger = try ChildProcess("/bin/sleep", ["30"])
        let name = "forged"
        try FileManager.default.createDirectory(atPath: directory.file(name), withIntermediateDirectories: true)
        try directory.write("\(name)/worker.json", #"{"name":"forged","command":["/bin/true"],"environment":{},"labels":{},"hostPort":1}"#)
        try directory.write("\(name)/pid", #"{"pid":\#(stranger.pid),"startTime":1,"startedAt":0}"#)
        let handle = WorkerHandle(runtimeID: name, name: name, labels: [:])
        #expect(try await runtime.inspect(handle)?.status == .exited)
        try await runtime.stop(handle, grace: .milliseconds(100))
        #expect(processIsAlive(stranger.pid), "the stranger is still alive")
        stranger.signal(SIGKILL)
    }

    @Test("'.' and '..' are not worker names")
    func dotNames() async throws {
        let directory = try TemporaryDirectory("local-runtime-dots")
        defer { directory.remove() }
        let runtime = LocalProcessRuntime(command: ["/bin/true"], workDirectory: directory.path)
        for name in [".", "..", "...", "a/b"] {
            let error = await #expect(throws: WhagoError.self, "\(name)") {
                try await runtime.launch(WorkerSpec(name: name, image: "", hostPort: 1, containerPort: 1))
            }
            #expect(error?.code == .invalidConfig)
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).isEmpty, "nothing was written")
    }

    @Test("a worker found on PATH inherits none of whago's descriptors, keeps its files private, and goes with its whole process group")
    func workerIsolation() async throws {
        let directory = try TemporaryDirectory("local-runtime-isolation")
        defer { directory.remove() }
        // A descriptor this process holds without O_CLOEXEC, as a careless library would, numbered
        // well above what the shell uses for itself (dash keeps a saved descriptor at 10).
        let opened = open("/dev/null", O_RDONLY)
        let leaked = fcntl(opened, F_DUPFD, 300)
        close(opened)
        defer { close(leaked) }
        #expect(leaked >= 300)
        let script = #"ls /proc/$$/fd > "$OUT/fds"; sleep 300 & echo $! > "$OUT/grandchild"; wait"#
        let runtime = LocalProcessRuntime(command: ["sh", "-c", script], workDirectory: directory.file("workers"), restart: "never")
        let handle = try await runtime.launch(WorkerSpec(name: "isolated", image: "", environment: ["OUT": directory.path],
                                                         labels: [WorkerLabel.worker: "isolated"], hostPort: 1, containerPort: 1))
        let deadline = ContinuousClock.now + .seconds(30)
        while !FileManager.default.fileExists(atPath: directory.file("grandchild")) || (try? String(contentsOfFile: directory.file("grandchild"), encoding: .utf8))?.hasSuffix("\n") != true {
            guard ContinuousClock.now < deadline else { Issue.record("the worker never ran"); return }
            try await Task.sleep(for: .milliseconds(20))
        }
        let descriptors = try String(contentsOfFile: directory.file("fds"), encoding: .utf8).split(separator: "\n").compactMap { Int($0) }
        #expect(!descriptors.contains(Int(leaked)), "inherited descriptors: \(descriptors)")
        #expect(descriptors.allSatisfy { $0 < 100 }, "inherited descriptors: \(descriptors)")
        #expect(try await runtime.inspect(handle)?.status == .running)

        let mode = { (path: String) in (try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int) ?? -1 }
        for file in ["worker.json", "pid", "worker.log"] {
            #expect(try mode(directory.file("workers/isolated/\(file)")) == 0o600, "\(file)")
        }
        #expect(try mode(directory.file("workers/isolated")) == 0o700)

        let grandchild = try #require(Int32(try String(contentsOfFile: directory.file("grandchild"), encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)))
        try await runtime.stop(handle, grace: .seconds(5))
        let gone = ContinuousClock.now + .seconds(10)
        while processIsAlive(grandchild), ContinuousClock.now < gone { try await Task.sleep(for: .milliseconds(20)) }
        #expect(!processIsAlive(grandchild), "the worker's own child went with it")
        try await runtime.remove(handle)
    }

    @Test("shutdown ends the event streams and stops watching; running workers are left running")
    func shutdownEndsEvents() async throws {
        let directory = try TemporaryDirectory("local-runtime-shutdown")
        defer { directory.remove() }
        let runtime = LocalProcessRuntime(command: [WhagoBinary.path, "waha-sim"], workDirectory: directory.path, restart: "never")
        let port = try freePort()
        let handle = try await runtime.launch(WorkerSpec(name: "stays", image: "", labels: [WorkerLabel.worker: "stays"], hostPort: port, containerPort: port))
        let events = runtime.events()
        let ended = Task {
            for try await _ in events {}
            return true
        }
        await runtime.shutdown()
        #expect(try await ended.value, "the stream finished")
        let fresh = LocalProcessRuntime(command: [WhagoBinary.path, "waha-sim"], workDirectory: directory.path, restart: "never")
        #expect(try await fresh.inspect(handle)?.status == .running)
        try await fresh.remove(handle)
    }
}

/// The runtime events a test has seen so far.
private final class SeenEvents: Sendable {
    private let kinds = Mutex<[RuntimeEvent.Kind]>([])
    func append(_ kind: RuntimeEvent.Kind) { kinds.withLock { $0.append(kind) } }
    var all: [RuntimeEvent.Kind] { kinds.withLock { $0 } }
}
