import Foundation
import LocalProcessRuntime
import Orchestrator
import Testing
import WAHAPlusProvider
import WhagoCore
import WhagoRig
import WhagoTesting

extension OrchestratorScenarios {
    @Suite("The orchestrator survives kill -9", .serialized, .timeLimit(.minutes(15)))
    struct CrashTests {
        /// After each restart and one reconcile: every acknowledged chip exists once, workers match
        /// processes one to one, no lease without an owner, no orphan process.
        @Test("SIGKILLed at 20 random points of a 30-chip burst, nothing is lost, duplicated or left behind", arguments: StoreKind.available)
        func burst(_ kind: StoreKind) async throws {
            let (probe, directory) = try await makeRig(kind, ports: 6)
            // The harness runs the same installation on the same store and ports.
            let options = probe.options
            await probe.stop()
            var arguments = [directory.path, options.ports.description, options.instance.rawValue, "30"]
            if case .postgres(let url, let schema) = options.store { arguments += ["--postgres", url, schema] }
            var acknowledged = Set<ChipID>()
            var deleting = Set<ChipID>()
            var deleted = Set<ChipID>()
            // Chips a kill left in the middle of an operation, found by the reconciles.
            var interrupted = 0
            var random = TestRandom("the crash test's kill points (\(kind))")
            do {
                for round in 0..<20 {
                    let burst = try await burstUntilKilled(arguments, random: &random)
                    acknowledged.formUnion(burst.acknowledged)
                    deleting.formUnion(burst.deleting)
                    deleted.formUnion(burst.deleted)
                    // A chip whose deletion began may be gone or not; one whose deletion returned is gone.
                    interrupted += try await check(options, acknowledged: acknowledged.subtracting(deleting), deleted: deleted, round: round)
                }
                // Everything acknowledged, finished: each chip waits for its scan.
                let rig = try await OrchestratorRig.start(options)
                do {
                    #expect(try await rig.store.allChips().allSatisfy { !deleted.contains($0.id) })
                    for chip in try await rig.store.allChips() {
                        try await rig.waitForChip(chip.id, "waited for a scan") { $0?.status == .scanQRCode }
                    }
                    #expect(acknowledged.count >= 10, "the bursts got chips acknowledged: \(acknowledged.count)")
                    #expect(interrupted > 0, "some kills interrupted an operation that a reconcile finished")
                    print("crash test (\(kind)): \(acknowledged.count) chips acknowledged, \(interrupted) found unfinished after a kill")
                } catch {
                    await tearDown(rig, directory)
                    throw error
                }
                await tearDown(rig, directory)
            } catch {
                let rig = try? await OrchestratorRig.start(options)
                if let rig { await tearDown(rig, directory) }
                throw error
            }
        }

        /// Runs the harness until a random point (after 0 to 4 acknowledged chips and up to 0.5 s
        /// more, often much less), SIGKILLs it, and returns the chips it acknowledged and deleted.
        /// The harness must die of that kill: one that exits or crashes by itself fails the test.
        private func burstUntilKilled(_ arguments: [String], random: inout TestRandom)
            async throws -> (acknowledged: Set<ChipID>, deleting: Set<ChipID>, deleted: Set<ChipID>) {
            let harness = try ChildProcess(WhagoBinary.bench, ["chip-burst"] + arguments)
            try await harness.waitForOutput(containing: "ready", timeout: .seconds(60))
            let acks = Int.random(in: 0...4, using: &random)
            try await harness.waitForOutput(timeout: .seconds(60), "\(acks) acknowledgements") { stdout, _ in
                stdout.components(separatedBy: "\n").filter { $0.hasPrefix("ack ") }.count >= acks || stdout.contains("done")
            }
            // The random point: a random delay, not a synchronisation.
            let delay = Bool.random(using: &random) ? Int.random(in: 0...40, using: &random) : Int.random(in: 0...500, using: &random)
            try await Task.sleep(for: .milliseconds(delay))
            harness.signal(SIGKILL)
            let termination = try await harness.waitForTermination()
            #expect(termination == .signaled(SIGKILL), "the harness \(termination) before the test killed it: \(harness.standardError.suffix(2000))")
            let lines = harness.standardOutput.split(separator: "\n")
            func chips(_ prefix: String) -> Set<ChipID> {
                Set(lines.filter { $0.hasPrefix(prefix) }.map { ChipID(String($0.dropFirst(prefix.count))) })
            }
            return (chips("ack "), chips("deleting "), chips("deleted "))
        }

        /// After a kill: one reconcile by a new orchestrator, then the invariants. Returns how many
        /// chips the reconcile found unfinished.
        private func check(_ options: OrchestratorRig.Options, acknowledged: Set<ChipID>, deleted: Set<ChipID>, round: Int) async throws -> Int {
            var quiet = options
            quiet.runsServices = false
            let rig = try await OrchestratorRig.start(quiet)
            do {
                // The dead harness's leadership runs out (its TTL is 1 s) before this one takes over.
                try await waitUntil("leadership", timeout: .seconds(30)) { await rig.orchestrator.leadership.attempt() }
                let fence = try #require(await rig.orchestrator.leadership.fence())
                let unfinished = try await rig.store.allChips().filter { $0.status == .provisioning || $0.status == .deleting }.count
                    + rig.store.workers().filter { $0.runtimeID == nil }.count
                await rig.orchestrator.reconciler.pass(fence: fence)
                try await invariants(rig, acknowledged: acknowledged, deleted: deleted, round: round)
                await rig.stop()
                return unfinished
            } catch {
                await rig.stop()
                throw error
            }
        }

        private func invariants(_ rig: OrchestratorRig, acknowledged: Set<ChipID>, deleted: Set<ChipID>, round: Int) async throws {
            let chips = try await rig.store.allChips()
            let ids = Set(chips.map(\.id))
            #expect(chips.count == ids.count)
            #expect(ids.isDisjoint(with: deleted), "round \(round): deleted chips are back: \(ids.intersection(deleted).prefix(3))")
            let lost = acknowledged.subtracting(ids)
            #expect(lost.isEmpty, "round \(round): acknowledged chips lost: \(lost.prefix(3))")
            let workers = try await rig.store.workers()
            let byID = Dictionary(uniqueKeysWithValues: workers.map { ($0.id, $0) })
            for chip in chips {
                if [.provisioning, .failed, .deleting].contains(chip.status) {
                    let reason = try await rig.store.events(of: chip.tenant, after: 0, limit: 10_000)
                        .last { $0.chip == chip.id && $0.event.status == chip.status }?.event.payload["reason"]?.stringValue
                    Issue.record("round \(round): chip \(chip.id) is \(chip.status) after a reconcile (\(reason ?? "no reason"))")
                }
                let worker = chip.worker.flatMap { byID[$0] }
                #expect(worker?.tenant == chip.tenant, "round \(round): chip \(chip.id) is on \(chip.worker?.rawValue ?? "no worker")")
            }
            for worker in workers {
                let hosted = chips.filter { $0.worker == worker.id }
                #expect(hosted.count <= 10)
                guard !hosted.isEmpty else { continue }
                let sessions = Set(try await rig.sessions.sessions(on: rig.endpoint(of: worker)))
                #expect(sessions == Set(hosted.map(\.id)), "round \(round): worker \(worker.id) runs sessions \(sessions), hosts \(hosted.map(\.id))")
            }
            // Workers and processes, one to one.
            let handles = try await rig.runtime.list(labels: [WorkerLabel.instance: rig.options.instance.rawValue])
            let names = Set(workers.map(\.name))
            #expect(Set(handles.map(\.name)).isSubset(of: names), "round \(round): a labelled worker no record knows")
            let processes = workerProcesses(under: rig.options.directory + "/workers")
            for (name, pids) in processes {
                #expect(pids.count == 1, "round \(round): worker \(name) runs as \(pids.count) processes")
                #expect(names.contains(name), "round \(round): an orphan process for \(name)")
            }
            for worker in workers where chips.contains(where: { $0.worker == worker.id }) {
                #expect(processes[worker.name]?.count == 1, "round \(round): worker \(worker.id) hosts chips and has no process")
            }
            // Leases have owners.
            for lease in try await rig.store.portLeases() { #expect(byID[lease.worker] != nil, "round \(round): port \(lease.port) without a worker") }
            for lease in try await rig.store.proxyLeases() { #expect(ids.contains(lease.chip), "round \(round): a proxy lease without a chip") }
            #expect(Set(try await rig.store.portLeases().map(\.port)).count == workers.count)
        }
    }
}

/// The live processes of `local` workers under a work directory, by worker name (read from each
/// process's environment, whatever the runtime's pid files say).
func workerProcesses(under workDirectory: String) -> [String: [Int32]] {
    var found: [String: [Int32]] = [:]
    let prefix = "WAHA_LOCAL_STORE_BASE_DIR=\(workDirectory)/"
    for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
        guard let pid = Int32(entry), let environ = FileManager.default.contents(atPath: "/proc/\(entry)/environ") else { continue }
        // A zombie (exited, not yet reaped) has an empty environment and is not running.
        for variable in environ.split(separator: 0) {
            let text = String(decoding: variable, as: UTF8.self)
            guard text.hasPrefix(prefix) else { continue }
            let name = text.dropFirst(prefix.count).split(separator: "/").first.map(String.init) ?? ""
            found[name, default: []].append(pid)
        }
    }
    return found
}
