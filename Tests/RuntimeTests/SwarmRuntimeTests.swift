import CurlHTTP
import Foundation
import SwarmRuntime
import Testing
import WhagoCore
import WhagoTesting

/// Tests against the private dockerd scripts/test starts and makes a single-node swarm manager
/// (`docker swarm init --advertise-addr 127.0.0.1`): services on the host network, so every
/// request stays on 127.0.0.1.
private func swarmSocket() throws -> String {
    try #require(TestServices.dockerSocket, Comment(rawValue: TestServices.missing("the private dockerd (a swarm manager)")))
}

/// A raw call to the test daemon, to look at what the driver did without going through it.
private func docker(_ method: HTTPClientRequest.Method, _ path: String) async throws -> (status: Int, json: JSONValue?) {
    let response = try await HTTPClient.shared.execute(HTTPClientRequest(method, "http://localhost/v1.41\(path)", unixSocketPath: try swarmSocket()))
    return (response.status, try? JSONDecoder().decode(JSONValue.self, from: Data(response.body)))
}

private func runtime(restart: String = "none", constraints: [String] = [], instance: String? = nil) throws -> SwarmRuntime {
    SwarmRuntime(socket: try swarmSocket(), network: "host", restart: restart, removeVolumes: true,
                 healthCheckCommand: ["/usr/local/bin/whago", "probe", "http://127.0.0.1:{port}{path}"],
                 constraints: constraints, pollInterval: .milliseconds(300), instance: instance)
}

private func simulatorSpec(_ name: String, port: Int, labels: [String: String], environment: [String: String] = [:]) -> WorkerSpec {
    var environment = environment
    environment["WAHA_SIM_HOST"] = "127.0.0.1"
    return WorkerSpec(name: name, image: TestServices.simulatorImage, environment: environment, labels: labels,
                      hostPort: port, containerPort: 3000, volume: VolumeMount(name: "\(name)-sessions", mountPath: "/app/.sessions"),
                      healthPath: "/ping")
}

/// The container of the service's running task.
private func runningContainer(of service: String) async throws -> String? {
    let filters = #"{"service":["\#(service)"],"desired-state":["running"]}"#
    let tasks = try await docker(.get, "/tasks?filters=" + (filters.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""))
    return tasks.json?.arrayValue?.compactMap { $0["Status"]?["ContainerStatus"]?["ContainerID"]?.stringValue }.first
}

private let conformance = RuntimeConformance(
    make: { try runtime() },
    spec: { name, port, labels, environment in simulatorSpec(name, port: port, labels: labels, environment: environment) },
    killFromOutside: { handle in
        let container = try #require(try await runningContainer(of: handle.runtimeID), "the worker's task has a container")
        #expect(try await docker(.post, "/containers/\(container)/kill?signal=KILL").status == 204)
    },
    launchInAnotherProcess: { name, port in
        try ChildProcess(WhagoBinary.bench, ["runtime-launch", "swarm", try swarmSocket(), name, "\(port)"])
    }
)

@Suite("The swarm runtime, on a single-node swarm of the private dockerd", .serialized, .usesPrivateDockerd,
       .enabled(if: TestServices.dockerSocket != nil || TestServices.required), .timeLimit(.minutes(10)))
struct SwarmRuntimeTests {
    @Test func lifecycle() async throws { try await conformance.lifecycle(port: try freePort()) }
    @Test func idempotentLaunch() async throws { try await conformance.idempotentLaunch(port: try freePort()) }
    @Test func adoption() async throws { try await conformance.adoption(port: try freePort()) }
    @Test func killedFromOutside() async throws { try await conformance.killedFromOutside(port: try freePort()) }
    @Test func survivesCrashOfWhago() async throws { try await conformance.survivesCrashOfWhago(port: try freePort()) }

    @Test("ping says it is a swarm manager; a running worker's address is its node's")
    func managerAndAddress() async throws {
        let swarm = try runtime()
        #expect(try await swarm.ping().version.contains("swarm of 1 node"))
        let report = await swarm.healthCheck()
        // On the host network (the tests' only one here) it warns what a worker can reach.
        #expect(report.status == .warning && report.detail.contains("1 node taking workers") && report.detail.contains("with network host"), "\(report)")
        let nowhere = await (try runtime(constraints: ["node.labels.whago-test-absent==true"])).healthCheck()
        #expect(nowhere.status == .error && nowhere.detail.contains("no node of the swarm takes workers"), "\(nowhere)")
        let port = try freePort()
        let name = "addr-\(UUID().uuidString.prefix(8).lowercased())"
        let handle = try await swarm.launch(simulatorSpec(name, port: port, labels: [WorkerLabel.instance: "swarm-test", WorkerLabel.worker: name]))
        var state: WorkerState?
        let deadline = ContinuousClock.now + .seconds(60)
        while state?.status != .running, ContinuousClock.now < deadline {
            state = try await swarm.inspect(handle)
            if state?.status != .running { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(state?.status == .running)
        #expect(state?.address == "127.0.0.1", "the node advertised 127.0.0.1")
        // What the service carries: one replica, the whago labels, least privilege, the leased port as PORT.
        let service = try await docker(.get, "/services/\(handle.runtimeID)").json
        #expect(service?["Spec"]?["Mode"]?["Replicated"]?["Replicas"]?.numberValue == 1)
        #expect(service?["Spec"]?["Labels"]?[WorkerLabel.worker]?.stringValue == name)
        let container = service?["Spec"]?["TaskTemplate"]?["ContainerSpec"]
        #expect(container?["CapabilityDrop"]?.arrayValue == ["ALL"])
        #expect(container?["Env"]?.arrayValue?.contains(.string("PORT=\(port)")) == true)
        // no-new-privileges as docker workers get it: kept by Docker 25 and later; an older
        // dockerd drops it, and the runtime says so rather than pretend.
        let kept = container?["Privileges"]?["NoNewPrivileges"] == .bool(true)
        #expect(swarm.noNewPrivilegesKept == kept)
        let after = await swarm.healthCheck()
        #expect(after.detail.contains("without no-new-privileges") == !kept, "\(after)")
        try await swarm.remove(handle)
        #expect(try await swarm.inspect(handle) == nil)
        #expect(try await docker(.get, "/volumes/\(name)-sessions").status == 404, "its volume went with it")
    }

    @Test("constraints reach Swarm: a worker no node may run stays pending, and is listed; a bad name is refused")
    func placementConstraints() async throws {
        let name = "nowhere-\(UUID().uuidString.prefix(8).lowercased())"
        let swarm = try runtime(constraints: ["node.labels.whago-test-absent == true"])
        let handle = try await swarm.launch(simulatorSpec(name, port: try freePort(), labels: [WorkerLabel.instance: "swarm-test", WorkerLabel.worker: name]))
        let service = try await docker(.get, "/services/\(handle.runtimeID)").json
        #expect(service?["Spec"]?["TaskTemplate"]?["Placement"]?["Constraints"]?.arrayValue == ["node.labels.whago-test-absent==true"])
        // Pending once Swarm's scheduler has looked for a node and found none (the task says so),
        // not merely because the scheduler has not got to it yet.
        let filters = #"{"service":["\#(handle.runtimeID)"]}"#.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
        let deadline = ContinuousClock.now + .seconds(60)
        var task: JSONValue?
        while task?["Status"]?["Err"]?.stringValue?.contains("no suitable node") != true {
            guard ContinuousClock.now < deadline else {
                Issue.record("Swarm's scheduler never said that no node suits the task: \(String(describing: task?["Status"]))")
                break
            }
            try await Task.sleep(for: .milliseconds(100))
            task = try await docker(.get, "/tasks?filters=" + filters).json?.arrayValue?.first
        }
        #expect(task?["Status"]?["State"]?.stringValue == "pending")
        #expect(try await swarm.inspect(handle)?.status == .created, "no node satisfies the constraint")
        #expect(try await swarm.nodes().isEmpty, "and whago would place nothing there")
        #expect(try await runtime().nodes().map(\.address) == ["127.0.0.1"], "without it, the manager's node")
        #expect(try await swarm.list(labels: [WorkerLabel.worker: name]).map(\.name) == [name])
        try await swarm.remove(handle)
        await #expect(throws: WhagoError.self) {
            _ = try await swarm.launch(simulatorSpec("bad.name", port: 1, labels: [:]))
        }
    }
}
