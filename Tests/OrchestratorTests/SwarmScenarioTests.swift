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
           .enabled(if: (TestServices.dockerSocket != nil && TestServices.postgresURL != nil) || TestServices.required))
    struct SwarmScenarioTests {
        @Test("placement per tenant as services; a killed task is restarted by Swarm and a removed service re-created by whago: the paired chip is WORKING without a scan")
        func placementKillRecreate() async throws {
            let socket = try #require(TestServices.dockerSocket, Comment(rawValue: TestServices.missing("the private dockerd (a swarm manager)")))
            let directory = try TemporaryDirectory("orchestrator-swarm")
            let range = try freePortRange(count: 4)
            let options = try await swarmOptions(directory, socket: socket, ports: range, sessionsPerWorker: 2, schemaPrefix: "swarm_")
            let rig = try await OrchestratorRig.start(options)
            do {
                // Placement: 2 tenants x 1 chip → 2 services, one per tenant, at their node's address.
                let chips = try await oneChipEach(rig, tenants: ["a", "b"])
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

        @Test("ports per node on a two-node swarm: each node's workers on the same port at its own address; the node lost, its worker moves to the other node with a port leased there and its paired chip is WORKING without a scan",
              .restartsPrivateDockerd, .enabled(if: TestServices.swarmNodeControl != nil || TestServices.required))
        func lostNode() async throws {
            let socket = try #require(TestServices.dockerSocket, Comment(rawValue: TestServices.missing("the private dockerd (a swarm manager)")))
            let nodeControl = try #require(TestServices.swarmNodeControl, Comment(rawValue: TestServices.missing("the second swarm node's script")))
            let started = try await ChildProcess.run(nodeControl, ["start"], timeout: .seconds(120))
            let secondNode = started.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            // From here on the second node is removed whatever happens, and its removal is
            // checked: the suites after this one expect a swarm of one node.
            guard started.status == 0, !secondNode.isEmpty else {
                try await removeSecondNode(nodeControl)
                throw WhagoError(.unavailable, "the second swarm node did not join (status \(started.status), node id '\(secondNode)'): \(started.stderr)")
            }
            let directory = try TemporaryDirectory("orchestrator-swarm-nodes")
            let range = try freePortRange(count: 2)
            let rig: OrchestratorRig
            do {
                let options = try await swarmOptions(directory, socket: socket, ports: range, sessionsPerWorker: 1, schemaPrefix: "swarm_nodes_")
                rig = try await OrchestratorRig.start(options)
            } catch {
                directory.remove()
                try await removeSecondNode(nodeControl)
                throw error
            }
            let options = rig.options
            do {
                let nodes = try await rig.runtime.nodes()
                #expect(Set(nodes.map(\.address)) == ["127.0.0.1", "127.0.0.2"], "the second node at its whago.address label: \(nodes)")
                let manager = try #require(nodes.first { $0.address == "127.0.0.1" }).id
                // Two tenants, one chip each, one session per worker: one worker on each node,
                // both on the first port of the range — ports are leased per node.
                let chips = try await oneChipEach(rig, tenants: ["a", "b"])
                let workers = try await rig.store.workers()
                #expect(Set(workers.map(\.host)) == [manager, secondNode], "one worker per node: \(workers.map(\.host))")
                #expect(workers.allSatisfy { $0.port == range.lowerBound }, "the same port on both nodes: \(workers.map(\.port))")
                #expect(Set(workers.compactMap(\.address)) == ["127.0.0.1", "127.0.0.2"])
                let leases = try await rig.store.portLeases()
                #expect(Set(leases.map { "\($0.host):\($0.port)" }) == ["\(manager):\(range.lowerBound)", "\(secondNode):\(range.lowerBound)"])

                // Pair the chip on the second node, at 127.0.0.2.
                let away = try #require(workers.first { $0.host == secondNode })
                let (tenant, chipID) = try #require(chips.first { $0.key == away.tenant })
                #expect(rig.endpoint(of: away).baseURL.host == "127.0.0.2")
                try await scan(rig, try await rig.waitForStatus(chipID, .scanQRCode), as: tenant)
                _ = try await rig.waitForStatus(chipID, .working)

                // The second node is lost (its dockerd stops, its containers with it): whago moves
                // the worker to the manager's node, on the next free port there.
                let stopped = try await ChildProcess.run(nodeControl, ["stop"], timeout: .seconds(120))
                #expect(stopped.status == 0, "\(stopped.stderr)")
                let deadline = ContinuousClock.now + .seconds(180)
                var relocated = away
                while relocated.host != manager {
                    guard ContinuousClock.now < deadline else {
                        Issue.record("worker \(away.id) never moved off the lost node (still on \(relocated.host))")
                        throw WhagoError(.timedOut, "the worker never moved")
                    }
                    try await Task.sleep(for: .milliseconds(200))
                    relocated = try #require(try await rig.store.worker(away.id))
                }
                #expect(relocated.port == range.lowerBound + 1, "the manager's node already leases the first port")
                #expect(relocated.address == "127.0.0.1" && relocated.name == away.name)
                #expect(rig.orchestrator.counters[.workersMoved] >= 1)
                try await waitForSession(rig, chipID, on: relocated, .working, other: nil, socket: socket)
                _ = try await rig.waitForStatus(chipID, .working, timeout: .seconds(120))
                #expect(try await statusEvents(rig, chipID, of: tenant).last == .working)
                // One session database for both workers: the moved worker started its own chip once,
                // the manager's worker never started it (nor restarted its own), and none was deleted.
                let home = try #require(workers.first { $0.host == manager })
                let homeChip = try #require(chips.first { $0.key == home.tenant }).value
                #expect(try await simulatorStarts(rig, relocated) == [chipID.rawValue: 1])
                #expect(try await simulatorStarts(rig, home) == [homeChip.rawValue: 1])
                let database = try #require(options.sessionsDatabaseURL)
                #expect(try await storedSimulatorSessions(database) == [chipID.rawValue, homeChip.rawValue])
                let services = try await rig.runtime.list(labels: [WorkerLabel.instance: options.instance.rawValue])
                #expect(services.count == 2, "no second service for the moved worker")
                #expect(services.first { $0.name == away.name }?.labels[WorkerLabel.node] == manager)
                #expect(Set(try await rig.store.portLeases().map { "\($0.host):\($0.port)" })
                        == ["\(manager):\(range.lowerBound)", "\(manager):\(range.lowerBound + 1)"], "the lost node's lease released")
            } catch {
                await tearDown(rig, directory)
                try await removeSecondNode(nodeControl)
                throw error
            }
            await tearDown(rig, directory)
            try await removeSecondNode(nodeControl)
        }

        /// Removes the second node from the swarm (and stops its dockerd); a failure is the test's,
        /// not a later suite's that finds two nodes.
        private func removeSecondNode(_ nodeControl: String) async throws {
            let removed = try await ChildProcess.run(nodeControl, ["remove"], timeout: .seconds(120))
            #expect(removed.status == 0, "the second swarm node was not removed: \(removed.stderr)")
        }

        /// A rig on the swarm of the private dockerd with a PostgreSQL store (a worker's node and
        /// address are fields its store must keep) and the workers' sessions in PostgreSQL.
        private func swarmOptions(_ directory: TemporaryDirectory, socket: String, ports: ClosedRange<Int>, sessionsPerWorker: Int,
                                  schemaPrefix: String) async throws -> OrchestratorRig.Options {
            // The workers' session database is this test's alone (workers on one list each other's sessions).
            let url = try await TestServices.freshDatabase("swarm_sessions")
            var options = OrchestratorRig.Options(directory: directory.path, runtime: .swarm(socket: socket),
                                                  store: try storeChoice(.postgres, schemaPrefix: schemaPrefix),
                                                  ports: try PortRange(ports.lowerBound, ports.upperBound), sessionsPerWorker: sessionsPerWorker,
                                                  settings: testSettings())
            options.sessionsDatabaseURL = url
            return options
        }

        /// One chip for each of these new tenants, waiting for its scan.
        private func oneChipEach(_ rig: OrchestratorRig, tenants: [String]) async throws -> [TenantID: ChipID] {
            var chips: [TenantID: ChipID] = [:]
            for name in tenants {
                let tenant = try await makeTenant(rig, name)
                chips[tenant] = try await rig.orchestrator.chips.create(ChipService.Request(name: "chip"), for: tenant).id
            }
            for chip in chips.values { try await rig.waitForStatus(chip, .scanQRCode, timeout: .seconds(120)) }
            return chips
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
