import Foundation
import WhagoCore

/// The swarm runtime's events, from reading the tasks every `interval`: a worker's task that starts
/// running is `started`; one that stops running (exited, failed, removed, or replaced by a task on
/// another node) is `exited` with its code. Polling rather than `/events`, whose service and task
/// events do not say where a task runs nor carry exit codes, and which lose nothing a re-read
/// would not find: after the runtime was unreachable the next read reports what changed meanwhile.
struct SwarmEvents: Sendable {
    let runtime: SwarmRuntime
    let interval: Duration

    /// What was running, by worker name: the task.
    typealias Snapshot = [String: (handle: WorkerHandle, task: String)]
    typealias Reading = (running: Snapshot, exitCodes: [String: Int?])

    func stream() -> AsyncThrowingStream<RuntimeEvent, any Error> {
        let (stream, continuation) = AsyncThrowingStream<RuntimeEvent, any Error>.makeStream()
        let task = Task { [runtime, interval] in
            var previous: Reading?
            while !Task.isCancelled {
                if let current = try? await Self.read(runtime) {
                    if let previous {
                        for event in Self.changes(from: previous, to: current) { continuation.yield(event) }
                    }
                    previous = current
                }
                try? await Task.sleep(for: interval)
            }
            continuation.finish()
        }
        continuation.onTermination = { _ in task.cancel() }
        return stream
    }

    /// The running task of every labelled worker: two calls (services, tasks), whatever their number.
    static func read(_ runtime: SwarmRuntime) async throws -> Reading {
        var running: Snapshot = [:]
        var exitCodes: [String: Int?] = [:]
        let handles = try await runtime.list(labels: runtime.instance.map { [WorkerLabel.instance: $0] } ?? [:])
        guard !handles.isEmpty else { return (running, exitCodes) }
        let byService = Dictionary(grouping: try await runtime.tasks()) { $0.ServiceID ?? "" }
        for handle in handles {
            guard let (task, _) = SwarmRuntime.current(among: byService[handle.runtimeID] ?? []) else { continue }
            if task.Status.State == "running" || task.Status.State == "starting" {
                running[handle.name] = (handle, task.ID)
            } else {
                exitCodes[handle.name] = task.Status.ContainerStatus?.ExitCode
            }
        }
        return (running, exitCodes)
    }

    static func changes(from previous: Reading, to current: Reading) -> [RuntimeEvent] {
        var events: [RuntimeEvent] = []
        for (name, was) in previous.running where current.running[name]?.task != was.task {
            events.append(RuntimeEvent(handle: was.handle, kind: .exited(code: current.exitCodes[name] ?? nil)))
        }
        for (name, now) in current.running where previous.running[name]?.task != now.task {
            events.append(RuntimeEvent(handle: now.handle, kind: .started))
        }
        return events
    }
}
