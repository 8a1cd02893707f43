import Foundation
import Orchestrator
import Testing
import WhagoCore
import WAHAPlusProvider
import WhagoRig
import WhagoTesting

extension OrchestratorScenarios {
    /// Workers keeping their sessions in one PostgreSQL (`sessionsDatabaseURL`), as WAHA's workers
    /// share one session store: each lists every worker's sessions (`GET /api/sessions?all=true`),
    /// deletes in the whole store, and — with `WHATSAPP_RESTART_ALL_SESSIONS` — would start every
    /// session of the store at boot. The simulator does all of it (WAHA's Plus-era session manager,
    /// `manager.plus.ts`: `getSessions(all)`, `delete`, `restartSessions`).
    @Suite("Workers sharing one session database", .timeLimit(.minutes(10)),
           .enabled(if: TestServices.postgresURL != nil || TestServices.required))
    struct SharedSessionsTests {
        @Test("two workers on one session database, a chip paired on each: reconcile passes, a worker restarted, a worker re-created — every chip stays WORKING, no session is deleted, none starts on a worker not its own")
        func twoWorkersOneDatabase() async throws {
            let database = try await TestServices.freshDatabase("shared_sessions")
            let directory = try TemporaryDirectory("orchestrator-shared")
            let range = try freePortRange(count: 3)
            var options = OrchestratorRig.Options(directory: directory.path, ports: try PortRange(range.lowerBound, range.upperBound),
                                                  sessionsPerWorker: 1, settings: testSettings())
            options.sessionsDatabaseURL = database
            let rig = try await OrchestratorRig.start(options)
            do {
                try await run(rig, database: database)
            } catch {
                await tearDown(rig, directory)
                throw error
            }
            await tearDown(rig, directory)
        }

        private func run(_ rig: OrchestratorRig, database: String) async throws {
            // One chip per tenant, one tenant per worker: two workers, both paired.
            var chips: [ChipID: Worker] = [:]
            for name in ["north", "south"] {
                let tenant = try await makeTenant(rig, name)
                let created = try await rig.orchestrator.chips.create(ChipService.Request(name: "chip"), for: tenant)
                try await scan(rig, try await rig.waitForStatus(created.id, .scanQRCode), as: tenant)
                chips[created.id] = try await workerOf(rig, try await rig.waitForStatus(created.id, .working))
            }
            #expect(Set(chips.values.map(\.id)).count == 2, "a worker each")
            try await expectOwnStarts(rig, chips, "after pairing")

            // Reconcile passes: each worker lists the other's session too, and deletes nothing of it.
            let fence = try #require(await rig.orchestrator.leadership.fence())
            for _ in 0..<2 { await rig.orchestrator.reconciler.pass(fence: fence) }
            try await expectWorking(rig, chips, "after reconcile passes")
            try await expectOwnStarts(rig, chips, "after reconcile passes")
            #expect(try await storedSimulatorSessions(database) == Set(chips.keys.map(\.rawValue)), "no session was deleted from the shared store")

            // A worker's process dies: whago starts it again, and it restarts its own session only.
            let (restartedChip, restarted) = try #require(chips.first)
            let pid = try workerPID(rig, restarted)
            kill(-pid, SIGKILL)
            try await waitUntil("the killed worker runs again") { (try? workerPID(rig, restarted)).map { $0 != pid } ?? false }
            try await expectWorking(rig, chips, "after a worker restart")
            try await expectOwnStarts(rig, chips, "after a worker restart")

            // A worker removed outright (its node gone, say): whago re-creates it and its chip comes
            // back WORKING from the shared store, without a scan.
            let (movedChip, moved) = try #require(chips.first { $0.key != restartedChip })
            let handle = try #require(try await rig.runtime.list(labels: [WorkerLabel.worker: moved.id.rawValue]).first)
            try await rig.runtime.remove(handle)
            try await waitUntil("the removed worker is re-created") { (try? workerPID(rig, moved)) != nil }
            try await expectWorking(rig, chips, "after a worker was re-created")
            try await expectOwnStarts(rig, chips, "after a worker was re-created")
            #expect(try await rig.store.chip(movedChip)?.phone != nil, "paired still")
            #expect(try await storedSimulatorSessions(database) == Set(chips.keys.map(\.rawValue)))
        }

        /// Every chip WORKING, in whago's record and on its own worker.
        private func expectWorking(_ rig: OrchestratorRig, _ chips: [ChipID: Worker], _ when: String) async throws {
            for (chip, worker) in chips {
                let endpoint = rig.endpoint(of: try #require(try await rig.store.worker(worker.id)))
                let sessions = rig.sessions
                try await waitUntil("chip \(chip) WORKING on its worker \(when)") {
                    (try? await sessions.status(of: chip, on: endpoint))?.status == .working
                }
                _ = try await rig.waitForStatus(chip, .working)
            }
        }

        /// Each worker process has started its own chip's session once, and no other session.
        private func expectOwnStarts(_ rig: OrchestratorRig, _ chips: [ChipID: Worker], _ when: String) async throws {
            for (chip, worker) in chips {
                let starts = try await simulatorStarts(rig, worker)
                #expect(starts == [chip.rawValue: 1], "\(when): worker \(worker.id) started \(starts); only \(chip), once, is its own")
            }
        }
    }
}
