import Foundation
@testable import Orchestrator
import Synchronization
import Testing
import WhagoTesting

/// A gate a test opens when it wants a blocked operation to go on.
private final class Gate: Sendable {
    private let state = Mutex<(open: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

    func wait() async {
        await withCheckedContinuation { continuation in
            let resume = state.withLock { state -> Bool in
                if state.open { return true }
                state.waiters.append(continuation)
                return false
            }
            if resume { continuation.resume() }
        }
    }

    func open() {
        let waiters = state.withLock { state in
            state.open = true
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }
}

/// What ran, in order.
private final class Journal: Sendable {
    private let entries = Mutex<[String]>([])
    func note(_ entry: String) { entries.withLock { $0.append(entry) } }
    var all: [String] { entries.withLock { $0 } }
}

@Suite("The orchestrator's serial queues and background work", .timeLimit(.minutes(3)))
struct BackgroundWorkTests {
    @Test("one key's operations run one at a time in the order submitted, a failure does not stop the next, other keys do not wait")
    func keyedOrder() async throws {
        let queue = KeyedSerialQueue<String>()
        let journal = Journal()
        let gate = Gate()
        // The first of key a holds the line until the gate opens.
        let first = Task { try await queue.run("a") { journal.note("a1 start"); await gate.wait(); journal.note("a1 end") } }
        try await waitUntil("a1 runs") { journal.all == ["a1 start"] }
        var later: [Task<Void, any Error>] = []
        for index in 2...5 {
            later.append(Task {
                try await queue.run("a") {
                    journal.note("a\(index) start")
                    if index == 3 { throw CancellationError() }
                    journal.note("a\(index) end")
                }
            })
            // Submitted in this order: each in line before the next is submitted.
            try await waitUntil("a\(index) in line") { await queue.submitted == index }
        }
        // Another key goes while a waits.
        try await queue.run("b") { journal.note("b1") }
        #expect(journal.all == ["a1 start", "b1"], "nothing of a ran past its first, b did not wait")
        gate.open()
        try await first.value
        for (offset, task) in later.enumerated() {
            if offset == 1 { await #expect(throws: CancellationError.self) { try await task.value } } else { try await task.value }
        }
        #expect(journal.all == ["a1 start", "b1", "a1 end", "a2 start", "a2 end", "a3 start", "a4 start", "a4 end", "a5 start", "a5 end"])
    }

    @Test("an operation whose caller is cancelled still runs in its turn, so a later one never overtakes it")
    func keyedCancellation() async throws {
        let queue = KeyedSerialQueue<String>()
        let journal = Journal()
        let gate = Gate()
        let holder = Task { try await queue.run("k") { await gate.wait(); journal.note("first") } }
        try await waitUntil("the first in line") { await queue.submitted == 1 }
        let cancelled = Task { try await queue.run("k") { journal.note("second, caller cancelled") } }
        try await waitUntil("the second in line") { await queue.submitted == 2 }
        let third = Task { try await queue.run("k") { journal.note("third") } }
        try await waitUntil("the third in line") { await queue.submitted == 3 }
        cancelled.cancel()
        gate.open()
        try await holder.value
        try await cancelled.value
        try await third.value
        #expect(journal.all == ["first", "second, caller cancelled", "third"])
    }

    @Test("background work: runs, is counted while it runs; drain stops taking work, lets what ends within the grace finish, cancels the rest and waits for it")
    func drain() async throws {
        let work = BackgroundWork()
        let journal = Journal()
        let quick = Gate()
        work.spawn { await quick.wait(); journal.note("quick done") }
        work.spawn {
            // Runs until cancelled.
            while !Task.isCancelled { try? await Task.sleep(for: .milliseconds(10)) }
            journal.note("slow cancelled")
        }
        try await waitUntil("both run") { work.running == 2 }
        #expect(work.accepting)
        let draining = Task { await work.drain(grace: .seconds(2)) }
        try await waitUntil("drain stops taking work") { !work.accepting }
        work.spawn { journal.note("spawned after drain began") }
        quick.open()
        await draining.value
        #expect(work.running == 0, "drain returns once every task has ended")
        #expect(journal.all == ["quick done", "slow cancelled"], "the quick one finished, the slow one was cancelled, the late one never ran")
    }
}
