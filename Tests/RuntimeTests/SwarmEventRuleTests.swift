import Foundation
@testable import SwarmRuntime
import Testing
import WhagoCore

/// How the swarm runtime turns reads of the tasks into events, without a daemon.
@Suite("Swarm events from reads of the tasks", .timeLimit(.minutes(1)))
struct SwarmEventRuleTests {
    private let worker = WorkerHandle(runtimeID: "s1", name: "w1", labels: [:])

    private func entry(_ task: String, at changedAt: Date? = nil) -> SwarmEvents.Entry {
        SwarmEvents.Entry(handle: worker, task: task, changedAt: changedAt)
    }

    private func describe(_ events: [RuntimeEvent]) -> [String] {
        events.map { event in
            switch event.kind {
            case .started: "\(event.handle.name) started"
            case .exited(let code): "\(event.handle.name) exited \(code.map(String.init) ?? "-")"
            default: "\(event.handle.name) other"
            }
        }.sorted()
    }

    private func kinds(_ previous: SwarmEvents.Reading, _ current: SwarmEvents.Reading) -> [String] {
        describe(SwarmEvents.changes(from: previous, to: current))
    }

    @Test("running then ended is exited with its code; a new task running is started; nothing changed is nothing")
    func runningThenEnded() {
        var running = SwarmEvents.Reading()
        running.running["w1"] = entry("t1")
        var ended = SwarmEvents.Reading()
        ended.ended["w1"] = (entry("t1"), 137)
        #expect(kinds(running, ended) == ["w1 exited 137"])
        #expect(kinds(SwarmEvents.Reading(), running) == ["w1 started"])
        #expect(kinds(running, running).isEmpty)
        var replaced = SwarmEvents.Reading()
        replaced.running["w1"] = entry("t2")
        #expect(kinds(running, replaced) == ["w1 exited -", "w1 started"])
    }

    @Test("a task being set up at one read and ended at the next (it ran and died between them) is exited, not lost")
    func diedBetweenReads() {
        var settingUp = SwarmEvents.Reading()
        settingUp.settingUp["w1"] = entry("t1")
        var ended = SwarmEvents.Reading()
        ended.ended["w1"] = (entry("t1"), 1)
        #expect(kinds(settingUp, ended) == ["w1 exited 1"])
        // A task that had ended already is not reported again, nor an older one.
        #expect(kinds(ended, ended).isEmpty)
        var olderEnded = SwarmEvents.Reading()
        olderEnded.ended["w1"] = (entry("t0"), 1)
        #expect(kinds(settingUp, olderEnded).isEmpty)
    }

    @Test("the first read reports what changed after the subscription, by the tasks' timestamps, and nothing older")
    func firstRead() {
        let subscribedAt = Date()
        var reading = SwarmEvents.Reading()
        reading.running["w1"] = entry("t1", at: subscribedAt.addingTimeInterval(0.5))
        reading.ended["w2"] = (SwarmEvents.Entry(handle: WorkerHandle(runtimeID: "s2", name: "w2", labels: [:]), task: "t2",
                                                 changedAt: subscribedAt.addingTimeInterval(1)), 137)
        reading.running["w3"] = SwarmEvents.Entry(handle: WorkerHandle(runtimeID: "s3", name: "w3", labels: [:]), task: "t3",
                                                  changedAt: subscribedAt.addingTimeInterval(-60))
        reading.ended["w4"] = (SwarmEvents.Entry(handle: WorkerHandle(runtimeID: "s4", name: "w4", labels: [:]), task: "t4", changedAt: nil), 0)
        #expect(describe(SwarmEvents.changes(since: subscribedAt, to: reading)) == ["w1 started", "w2 exited 137"])
    }
}
