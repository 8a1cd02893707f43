import CurlHTTP
import DockerRuntime
import Foundation
import Orchestrator
import Testing
import WAHAPlusProvider
import WhagoCore
import WhagoRig
import WhagoTesting

/// A raw call to the test daemon, to do to containers what an operator (or a crash) would.
private func docker(_ method: HTTPClientRequest.Method, _ path: String, socket: String) async throws -> Int {
    try await HTTPClient.shared.execute(HTTPClientRequest(method, "http://localhost/v1.41\(path)", unixSocketPath: socket)).status
}

extension OrchestratorScenarios {
    @Suite("The orchestrator on the docker runtime (simulator image, private dockerd, host networking)", .serialized, .usesPrivateDockerd, .timeLimit(.minutes(10)),
           .enabled(if: TestServices.dockerSocket != nil || TestServices.required))
    struct DockerScenarioTests {
        @Test("placement per tenant; a killed container comes back and a removed one is re-created with its volume: the paired chip is WORKING without a scan")
        func placementKillReconcile() async throws {
            let socket = try #require(TestServices.dockerSocket, Comment(rawValue: TestServices.missing("the private dockerd")))
            let directory = try TemporaryDirectory("orchestrator-docker")
            let range = try freePortRange(count: 6)
            let options = OrchestratorRig.Options(directory: directory.path, runtime: .docker(socket: socket), ports: try PortRange(range.lowerBound, range.upperBound),
                                                  sessionsPerWorker: 2, settings: testSettings())
            let rig = try await OrchestratorRig.start(options)
            do {
                // Placement: 2 tenants x 3 chips, 2 per worker: 4 workers, none shared.
                var placed: [TenantID: [ChipID]] = [:]
                for name in ["a", "b"] {
                    let tenant = try await makeTenant(rig, name)
                    for number in 1...3 {
                        placed[tenant, default: []].append(try await rig.orchestrator.chips.create(ChipService.Request(name: "chip \(number)"), for: tenant).id)
                    }
                }
                for chips in placed.values { for chip in chips { try await rig.waitForStatus(chip, .scanQRCode, timeout: .seconds(120)) } }
                let workers = try await rig.store.workers()
                #expect(workers.count == 4)
                for (tenant, chips) in placed {
                    for chip in chips {
                        let worker = try await workerOf(rig, try #require(try await rig.store.chip(chip)))
                        #expect(worker.tenant == tenant)
                    }
                }
                let containers = try await rig.runtime.list(labels: [WorkerLabel.instance: options.instance.rawValue])
                #expect(Set(containers.map(\.name)) == Set(workers.map(\.name)))

                // Pair one chip; kill its container from outside.
                let tenant = try #require(placed.keys.first)
                let chipID = try #require(placed[tenant]?.first)
                try await scan(rig, try await rig.waitForStatus(chipID, .scanQRCode), as: tenant)
                let paired = try await rig.waitForStatus(chipID, .working)
                let worker = try await workerOf(rig, paired)
                #expect(try await docker(.post, "/containers/\(worker.name)/kill?signal=KILL", socket: socket) == 204)
                try await rig.waitForChip(chipID, "came back after its container was killed", timeout: .seconds(120)) { _ in
                    rig.orchestrator.counters[.workersRecovered] >= 1
                }
                #expect(try await rig.waitForStatus(chipID, .working, timeout: .seconds(120)).phone == paired.phone)

                // Remove it from outside (its volume stays): the reconciler re-creates it, same name and port.
                #expect(try await docker(.delete, "/containers/\(worker.name)?force=true", socket: socket) == 204)
                try await rig.waitForChip(chipID, "came back after its container was removed", timeout: .seconds(120)) { _ in
                    rig.orchestrator.counters[.workersRecovered] >= 2
                }
                let back = try await rig.waitForStatus(chipID, .working, timeout: .seconds(120))
                #expect(back.phone == paired.phone, "paired again from the volume, without a scan")
                let recreated = try await workerOf(rig, back)
                #expect(recreated.port == worker.port && recreated.name == worker.name)
                #expect(try await rig.runtime.list(labels: [WorkerLabel.instance: options.instance.rawValue]).count == 4, "no second container")
            } catch {
                await tearDown(rig, directory)
                throw error
            }
            await tearDown(rig, directory)
        }

        @Test("sessions in PostgreSQL: a worker removed with its volume is re-created, and its paired chip is WORKING without a scan",
              .enabled(if: TestServices.postgresURL != nil || TestServices.required))
        func sessionsInPostgres() async throws {
            let socket = try #require(TestServices.dockerSocket, Comment(rawValue: TestServices.missing("the private dockerd")))
            // The workers' session database is this test's alone (workers on one list each other's sessions).
            let url = try await TestServices.freshDatabase("docker_sessions")
            let directory = try TemporaryDirectory("orchestrator-docker-pg")
            let range = try freePortRange(count: 2)
            var options = OrchestratorRig.Options(directory: directory.path, runtime: .docker(socket: socket), ports: try PortRange(range.lowerBound, range.upperBound),
                                                  sessionsPerWorker: 2, settings: testSettings())
            options.sessionsDatabaseURL = url
            let rig = try await OrchestratorRig.start(options)
            do {
                let tenant = try await makeTenant(rig, "pg")
                let chipID = try await rig.orchestrator.chips.create(ChipService.Request(name: "kept"), for: tenant).id
                try await scan(rig, try await rig.waitForStatus(chipID, .scanQRCode, timeout: .seconds(120)), as: tenant)
                let paired = try await rig.waitForStatus(chipID, .working)
                let worker = try await workerOf(rig, paired)
                let handle = try #require(try await rig.runtime.list(labels: [WorkerLabel.instance: options.instance.rawValue]).first { $0.name == worker.name })
                // Removed with its volume (the rig's runtime removes volumes): nothing of the session is left on the host.
                try await rig.runtime.remove(handle)
                try await rig.waitForChip(chipID, "came back after its worker and volume were removed", timeout: .seconds(120)) { _ in
                    rig.orchestrator.counters[.workersRecovered] >= 1
                }
                let recreated = try await workerOf(rig, try await rig.waitForStatus(chipID, .working, timeout: .seconds(120)))
                #expect(recreated.name == worker.name)
                #expect(recreated.runtimeID != worker.runtimeID, "a new container")
                // The new container's own session, not whago's record of the old one: paired, with the same phone.
                // (It may still be starting: unreachable until it listens.)
                var session: SessionStatus?
                let deadline = ContinuousClock.now + .seconds(120)
                while session?.status != .working, ContinuousClock.now < deadline {
                    session = try? await rig.sessions.status(of: chipID, on: rig.endpoint(of: recreated))
                    if session?.status != .working { try await Task.sleep(for: .milliseconds(100)) }
                }
                #expect(session?.status == .working, "the re-created worker's session is paired again from PostgreSQL, without a scan")
                #expect(session?.phone == paired.phone)
                #expect(try await rig.store.chip(chipID)?.phone == paired.phone)
            } catch {
                await tearDown(rig, directory)
                throw error
            }
            await tearDown(rig, directory)
        }
    }
}
