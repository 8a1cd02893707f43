import CurlHTTP
import Foundation
import Orchestrator
import Testing
import WAHAPlusProvider
import WhagoCore
import WhagoRig
import WhagoTesting

/// A raw call to the test daemon, to do to services what an operator (or a lost node) would.
private func docker(_ method: HTTPClientRequest.Method, _ path: String, socket: String) async throws -> (status: Int, json: JSONValue?) {
    let response = try await HTTPClient.shared.execute(HTTPClientRequest(method, "http://localhost/v1.41\(path)", unixSocketPath: socket))
    return (response.status, try? JSONDecoder().decode(JSONValue.self, from: Data(response.body)))
}

extension OrchestratorScenarios {
    @Suite("The orchestrator on the swarm runtime (single-node swarm of the private dockerd, host networking)", .serialized, .usesPrivateDockerd, .timeLimit(.minutes(10)),
           .enabled(if: TestServices.dockerSocket != nil || TestServices.required))
    struct SwarmScenarioTests {
        @Test("placement per tenant as services; a killed task is restarted by Swarm and a removed service re-created by whago: the paired chip is WORKING without a scan")
        func placementKillRecreate() async throws {
            let socket = try #require(TestServices.dockerSocket, Comment(rawValue: TestServices.missing("the private dockerd (a swarm manager)")))
            let url = try #require(TestServices.postgresURL, Comment(rawValue: TestServices.missing("PostgreSQL")))
            let directory = try TemporaryDirectory("orchestrator-swarm")
            let range = try freePortRange(count: 4)
            // On PostgreSQL: a worker's address is a field its store must keep.
            var options = OrchestratorRig.Options(directory: directory.path, runtime: .swarm(socket: socket),
                                                  store: try storeChoice(.postgres, schemaPrefix: "swarm_"),
                                                  ports: try PortRange(range.lowerBound, range.upperBound), sessionsPerWorker: 2, settings: testSettings())
            options.sessionsDatabaseURL = url
            let rig = try await OrchestratorRig.start(options)
            do {
                // Placement: 2 tenants x 1 chip → 2 services, one per tenant, at their node's address.
                var chips: [TenantID: ChipID] = [:]
                for name in ["a", "b"] {
                    let tenant = try await makeTenant(rig, name)
                    chips[tenant] = try await rig.orchestrator.chips.create(ChipService.Request(name: "chip"), for: tenant).id
                }
                for chip in chips.values { try await rig.waitForStatus(chip, .scanQRCode, timeout: .seconds(120)) }
                let workers = try await rig.store.workers()
                #expect(workers.count == 2)
                #expect(Set(workers.map(\.tenant)) == Set(chips.keys))
                #expect(rig.runtime.workerPorts.host == "localhost")
                #expect(workers.allSatisfy { $0.address == "127.0.0.1" }, "reached at their node's address, not the configured host: \(workers.map(\.address))")
                let services = try await docker(.get, "/services?filters=" + (#"{"label":["whago.instance=\#(options.instance.rawValue)"]}"#
                    .addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""), socket: socket)
                #expect(Set(services.json?.arrayValue?.compactMap { $0["Spec"]?["Name"]?.stringValue } ?? []) == Set(workers.map(\.name)))

                // Pair one chip; kill its task's container from outside: Swarm starts another task.
                let (tenant, chipID) = try #require(chips.first)
                try await scan(rig, try await rig.waitForStatus(chipID, .scanQRCode), as: tenant)
                let paired = try await rig.waitForStatus(chipID, .working)
                let worker = try await workerOf(rig, paired)
                let runtimeID = try #require(worker.runtimeID)
                let filters = #"{"service":["\#(runtimeID)"],"desired-state":["running"]}"#.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
                let container = try #require(try await docker(.get, "/tasks?filters=" + filters, socket: socket).json?.arrayValue?
                    .compactMap { $0["Status"]?["ContainerStatus"]?["ContainerID"]?.stringValue }.first)
                #expect(try await docker(.post, "/containers/\(container)/kill?signal=KILL", socket: socket).status == 204)
                try await waitForSession(rig, chipID, on: worker, .working, other: container, socket: socket)

                // Remove the service from outside (with its volume: the sessions are in PostgreSQL): whago re-creates it.
                let recoveries = rig.orchestrator.counters[.workersRecovered]
                #expect(try await docker(.delete, "/services/\(runtimeID)", socket: socket).status == 200)
                try await rig.waitForChip(chipID, "came back after its service was removed", timeout: .seconds(120)) { _ in
                    rig.orchestrator.counters[.workersRecovered] > recoveries
                }
                let recreated = try await workerOf(rig, try await rig.waitForStatus(chipID, .working, timeout: .seconds(120)))
                #expect(recreated.runtimeID != runtimeID, "a new service")
                #expect(recreated.name == worker.name && recreated.port == worker.port)
                try await waitForSession(rig, chipID, on: recreated, .working, other: nil, socket: socket)
                #expect(try await rig.runtime.list(labels: [WorkerLabel.instance: options.instance.rawValue]).count == 2, "no second service")
            } catch {
                await tearDown(rig, directory)
                throw error
            }
            await tearDown(rig, directory)
        }

        /// Waits until the worker's own session (not whago's record) has `status` — in a task
        /// other than the one whose container was `other`, when given.
        private func waitForSession(_ rig: OrchestratorRig, _ chip: ChipID, on worker: Worker, _ status: ChipStatus, other: String?,
                                    socket: String) async throws {
            let deadline = ContinuousClock.now + .seconds(120)
            var last: SessionStatus?
            while ContinuousClock.now < deadline {
                let current = try await rig.store.worker(worker.id) ?? worker
                last = try? await rig.sessions.status(of: chip, on: rig.endpoint(of: current))
                if last?.status == status, let other {
                    let filters = #"{"service":["\#(current.runtimeID ?? "")"],"desired-state":["running"]}"#
                        .addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
                    let running = try await docker(.get, "/tasks?filters=" + filters, socket: socket).json?.arrayValue?
                        .compactMap { $0["Status"]?["ContainerStatus"]?["ContainerID"]?.stringValue } ?? []
                    if !running.isEmpty, !running.contains(other) { return }
                } else if last?.status == status {
                    return
                }
                try await Task.sleep(for: .milliseconds(100))
            }
            Issue.record("the session of \(chip) never became \(status) (last: \(String(describing: last)))")
        }
    }
}
