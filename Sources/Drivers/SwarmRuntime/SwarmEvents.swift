import DockerEngine
import Foundation
import WhagoCore

/// The swarm runtime's events, from reading the tasks every `interval`: a worker's task that starts
/// running is `started`; one that stops running (exited, failed, removed, or replaced by a task on
/// another node) is `exited` with its code. Polling rather than `/events`, whose service and task
/// events do not say where a task runs nor carry exit codes, and which lose nothing a re-read
/// would not find: after the runtime was unreachable the next read reports what changed meanwhile.
///
/// Events are those from the subscription on, as with the other runtimes: the first read reports
/// the tasks that started (or ended) after the subscription by their timestamps, and a task that
/// was being set up at one read and has ended at the next (it ran and died between two reads, as a
/// worker crashing at once does) is reported `exited`, never lost.
struct SwarmEvents: Sendable {
    let runtime: SwarmRuntime
    let interval: Duration

    /// A worker's current task: its ID and when it last changed state.
    struct Entry: Sendable {
        var handle: WorkerHandle
        var task: String
        var changedAt: Date?
    }

    /// The current task of each worker, by worker name, after its state.
    struct Reading: Sendable {
        var running: [String: Entry] = [:]
        var settingUp: [String: Entry] = [:]
        /// Tasks that ended, with their exit code.
        var ended: [String: (entry: Entry, code: Int?)] = [:]
    }

    func stream() -> AsyncThrowingStream<RuntimeEvent, any Error> {
        let (stream, continuation) = AsyncThrowingStream<RuntimeEvent, any Error>.makeStream()
        let subscribedAt = Date()
        let task = Task { [runtime, interval] in
            var previous: Reading?
            while !Task.isCancelled {
                if let current = try? await Self.read(runtime) {
                    let events = previous.map { Self.changes(from: $0, to: current) } ?? Self.changes(since: subscribedAt, to: current)
                    for event in events { continuation.yield(event) }
                    previous = current
                }
                try? await Task.sleep(for: interval)
            }
            continuation.finish()
        }
        continuation.onTermination = { _ in task.cancel() }
        return stream
    }

    /// The current task of every labelled worker: two calls (services, tasks), whatever their number.
    static func read(_ runtime: SwarmRuntime) async throws -> Reading {
        var reading = Reading()
        let handles = try await runtime.list(labels: runtime.instance.map { [WorkerLabel.instance: $0] } ?? [:])
        guard !handles.isEmpty else { return reading }
        let byService = Dictionary(grouping: try await runtime.tasks()) { $0.ServiceID ?? "" }
        for handle in handles {
            guard let (task, _) = SwarmRuntime.current(among: byService[handle.runtimeID] ?? []) else { continue }
            let entry = Entry(handle: handle, task: task.ID, changedAt: DockerTime.parse(task.Status.Timestamp))
            switch task.Status.State {
            case "running", "starting":
                reading.running[handle.name] = entry
            case "new", "pending", "assigned", "accepted", "ready", "preparing":
                reading.settingUp[handle.name] = entry
            default:
                reading.ended[handle.name] = (entry, task.Status.ContainerStatus?.ExitCode)
            }
        }
        return reading
    }

    /// What changed between two reads.
    static func changes(from previous: Reading, to current: Reading) -> [RuntimeEvent] {
        var events: [RuntimeEvent] = []
        for (name, was) in previous.running where current.running[name]?.task != was.task {
            events.append(RuntimeEvent(handle: was.handle, kind: .exited(code: current.ended[name]?.code ?? nil)))
        }
        for (name, was) in previous.settingUp where current.ended[name]?.entry.task == was.task {
            events.append(RuntimeEvent(handle: was.handle, kind: .exited(code: current.ended[name]?.code ?? nil)))
        }
        for (name, now) in current.running where previous.running[name]?.task != now.task {
            events.append(RuntimeEvent(handle: now.handle, kind: .started))
        }
        return events
    }

    /// What the first read shows to have happened since the subscription: tasks that started
    /// running after it, and tasks that ended after it.
    static func changes(since subscribedAt: Date, to current: Reading) -> [RuntimeEvent] {
        var events: [RuntimeEvent] = []
        for (_, now) in current.running where (now.changedAt ?? .distantPast) >= subscribedAt {
            events.append(RuntimeEvent(handle: now.handle, kind: .started))
        }
        for (_, ended) in current.ended where (ended.entry.changedAt ?? .distantPast) >= subscribedAt {
            events.append(RuntimeEvent(handle: ended.entry.handle, kind: .exited(code: ended.code)))
        }
        return events
    }
}
