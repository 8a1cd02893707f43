import CurlHTTP
import Foundation
import Testing
public import WhagoCore

/// The behaviour every ``ContainerRuntime`` must have, run by every runtime's tests. Workers are
/// real WAHA simulators listening on 127.0.0.1.
public struct RuntimeConformance: Sendable {
    /// - make: a new runtime instance over the same backing runtime (a fresh whago, for adoption).
    /// - spec: a spec that runs a simulator named `name` listening on 127.0.0.1:`port`.
    /// - killFromOutside: kills a worker the way a crash or an operator would.
    /// - launchInAnotherProcess: starts a process (a whago of its own) that launches the worker
    ///   `name` on `port` through the same backing runtime, with this suite's labels and
    ///   environment, prints `launched` and waits to be killed (`whago-bench runtime-launch`);
    ///   `nil` only for a suite that does not run ``survivesCrashOfWhago(port:)``.
    public init(
        make: @escaping @Sendable () async throws -> any ContainerRuntime,
        spec: @escaping @Sendable (_ name: String, _ port: Int, _ labels: [String: String], _ environment: [String: String]) -> WorkerSpec,
        killFromOutside: @escaping @Sendable (WorkerHandle) async throws -> Void,
        launchInAnotherProcess: (@Sendable (_ name: String, _ port: Int) throws -> ChildProcess)? = nil
    ) {
        self.make = make
        self.spec = spec
        self.killFromOutside = killFromOutside
        self.launchInAnotherProcess = launchInAnotherProcess
    }

    let make: @Sendable () async throws -> any ContainerRuntime
    let spec: @Sendable (String, Int, [String: String], [String: String]) -> WorkerSpec
    let killFromOutside: @Sendable (WorkerHandle) async throws -> Void
    let launchInAnotherProcess: (@Sendable (String, Int) throws -> ChildProcess)?

    private func labels(_ name: String) -> [String: String] {
        [WorkerLabel.instance: "conformance", WorkerLabel.worker: name, WorkerLabel.tenant: "t1"]
    }

    private func uniqueName(_ prefix: String) -> String { "\(prefix)-\(UUID().uuidString.prefix(8).lowercased())" }

    /// Waits until the worker's `/api/server/version` answers; returns its body.
    private func waitForWorker(port: Int) async throws -> JSONValue {
        let deadline = ContinuousClock.now + .seconds(60)
        while true {
            if let response = try? await HTTPClient.shared.execute(HTTPClientRequest(.get, "http://127.0.0.1:\(port)/api/server/version",
                                                                                     headers: [("X-Api-Key", "conformance-key")], timeout: .seconds(2))),
               response.status == 200 {
                return try JSONDecoder().decode(JSONValue.self, from: Data(response.body))
            }
            guard ContinuousClock.now < deadline else { throw WhagoError(.timedOut, "worker on port \(port) never answered") }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    private func waitForStatus(_ runtime: any ContainerRuntime, _ handle: WorkerHandle, _ status: WorkerState.Status) async throws {
        let deadline = ContinuousClock.now + .seconds(30)
        while try await runtime.inspect(handle)?.status != status {
            guard ContinuousClock.now < deadline else {
                Issue.record("\(handle.name) never became \(status)")
                return
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    /// A worker launched by a whago that is then killed (SIGKILL, no chance to clean up) keeps
    /// running, and a fresh runtime finds it by its labels, inspects, stops and removes it.
    public func survivesCrashOfWhago(port: Int) async throws {
        let launch = try #require(launchInAnotherProcess, "this runtime's suite gives no way to launch from another process")
        let name = uniqueName("orphan")
        let whago = try launch(name, port)
        try await whago.waitForOutput(containing: "launched", timeout: .seconds(120))
        whago.signal(SIGKILL)
        _ = try await whago.waitForExit()
        _ = try await waitForWorker(port: port)
        let fresh = try await make()
        let found = try await fresh.list(labels: [WorkerLabel.instance: "conformance", WorkerLabel.worker: name])
        let handle = try #require(found.first, "the orphaned worker is found by its labels")
        #expect(found.count == 1)
        #expect(try await fresh.inspect(handle)?.status == .running, "the worker outlived the whago that launched it")
        try await fresh.stop(handle, grace: .seconds(10))
        // Stopped workers are listed too: adoption after a restart must see them to start or remove them.
        #expect(try await fresh.list(labels: [WorkerLabel.worker: name]).map(\.name) == [name])
        #expect(try await fresh.inspect(handle)?.status == .exited)
        try await fresh.remove(handle)
        #expect(try await fresh.list(labels: [WorkerLabel.worker: name]).isEmpty)
    }

    /// launch → running and answering; stop → exited; remove → gone.
    public func lifecycle(port: Int) async throws {
        let runtime = try await make()
        let name = uniqueName("life")
        let handle = try await runtime.launch(spec(name, port, labels(name), ["WAHA_API_KEY": "conformance-key"]))
        #expect(handle.name == name)
        _ = try await waitForWorker(port: port)
        #expect(try await runtime.inspect(handle)?.status == .running)
        try await runtime.stop(handle, grace: .seconds(10))
        try await runtime.stop(handle, grace: .seconds(10))
        #expect(try await runtime.inspect(handle)?.status == .exited)
        #expect(try await runtime.list(labels: [WorkerLabel.worker: name]) == [handle], "a stopped worker is still listed")
        try await runtime.remove(handle)
        try await runtime.remove(handle)
        #expect(try await runtime.inspect(handle) == nil)
    }

    /// Launching a name twice gives one worker; other labels on the same name are a conflict.
    public func idempotentLaunch(port: Int) async throws {
        let runtime = try await make()
        let name = uniqueName("twice")
        let spec = self.spec(name, port, labels(name), ["WAHA_API_KEY": "conformance-key"])
        let first = try await runtime.launch(spec)
        _ = try await waitForWorker(port: port)
        let second = try await runtime.launch(spec)
        #expect(first == second)
        #expect(try await runtime.list(labels: [WorkerLabel.worker: name]).count == 1)
        var other = labels(name)
        other[WorkerLabel.tenant] = "someone-else"
        do {
            _ = try await runtime.launch(self.spec(name, port, other, [:]))
            Issue.record("a name held with other labels was taken over")
        } catch let error as WhagoError {
            #expect(error.code == .conflict)
        }
        try await runtime.remove(first)
    }

    /// A fresh runtime instance finds the worker through its labels and can inspect and stop it;
    /// labels and environment round-trip.
    public func adoption(port: Int) async throws {
        let runtime = try await make()
        let name = uniqueName("adopt")
        let handle = try await runtime.launch(spec(name, port, labels(name), ["WAHA_API_KEY": "conformance-key", "WAHA_WORKER_ID": name]))
        let version = try await waitForWorker(port: port)
        #expect(version["worker"]?["id"]?.stringValue == name, "the environment reached the worker")
        let fresh = try await make()
        let found = try await fresh.list(labels: [WorkerLabel.instance: "conformance", WorkerLabel.worker: name])
        #expect(found.map(\.name) == [name])
        #expect(found.first?.labels == labels(name))
        #expect(try await fresh.inspect(handle)?.status == .running)
        try await fresh.stop(handle, grace: .seconds(10))
        #expect(try await fresh.inspect(handle)?.status == .exited)
        try await fresh.remove(handle)
        #expect(try await fresh.list(labels: [WorkerLabel.worker: name]).isEmpty)
    }

    /// A worker killed from outside is reported as exited, by inspect and by the events stream
    /// (which reported it started first: events are those from the subscription on).
    public func killedFromOutside(port: Int) async throws {
        let runtime = try await make()
        let name = uniqueName("killed")
        let events = runtime.events()
        let (seen, seenContinuation) = AsyncStream<Bool>.makeStream()
        let watcher = Task {
            defer { seenContinuation.finish() }
            for try await event in events where event.handle.name == name {
                switch event.kind {
                case .started: seenContinuation.yield(true)
                case .exited: seenContinuation.yield(false); return
                default: continue
                }
            }
        }
        let watchdog = Task {
            try await Task.sleep(for: .seconds(60))
            watcher.cancel()
            seenContinuation.finish()
        }
        defer { watchdog.cancel(); watcher.cancel() }
        let handle = try await runtime.launch(spec(name, port, labels(name), ["WAHA_API_KEY": "conformance-key"]))
        _ = try await waitForWorker(port: port)
        var kinds = seen.makeAsyncIterator()
        #expect(await kinds.next() == true, "a started event arrived")
        try await killFromOutside(handle)
        #expect(await kinds.next() == false, "an exited event arrived")
        try await waitForStatus(runtime, handle, .exited)
        try await runtime.remove(handle)
    }
}
