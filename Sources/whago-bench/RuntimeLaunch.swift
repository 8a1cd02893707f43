import DockerRuntime
import SwarmRuntime
import Foundation
import LocalProcessRuntime
import WhagoCore

/// `whago-bench runtime-launch local WORKDIR|docker SOCKET NAME PORT`: launches one simulator worker
/// through a runtime driver, prints `launched`, and waits to be killed — a whago that crashes
/// right after starting a worker, for the runtime conformance check that workers outlive it.
/// Labels and environment are the conformance suite's (`whago.instance=conformance`,
/// `WAHA_API_KEY=conformance-key`).
enum RuntimeLaunch {
    static func run(_ arguments: [String]) async throws {
        guard arguments.count == 4, let port = Int(arguments[3]) else {
            throw BenchError("usage: whago-bench runtime-launch local WORKDIR|docker SOCKET|swarm SOCKET NAME PORT")
        }
        let (kind, target, name) = (arguments[0], arguments[1], arguments[2])
        let labels = [WorkerLabel.instance: "conformance", WorkerLabel.worker: name, WorkerLabel.tenant: "t1"]
        let environment = ["WAHA_API_KEY": "conformance-key", "WAHA_SIM_HOST": "127.0.0.1"]
        let runtime: any ContainerRuntime
        let spec: WorkerSpec
        switch kind {
        case "local":
            let whago = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("whago").path
            runtime = LocalProcessRuntime(command: [whago, "waha-sim", "--time-scale", "50"], workDirectory: target, restart: "never")
            spec = WorkerSpec(name: name, image: "", environment: environment, labels: labels, hostPort: port, containerPort: port)
        case "docker":
            runtime = DockerRuntime(socket: target, network: "host", restart: "no")
            spec = WorkerSpec(name: name, image: "whago/waha-sim:dev", environment: environment, labels: labels, hostPort: port,
                              containerPort: 3000, volume: VolumeMount(name: "\(name)-sessions", mountPath: "/app/.sessions"))
        case "swarm":
            runtime = SwarmRuntime(socket: target, network: "host", restart: "none")
            spec = WorkerSpec(name: name, image: "whago/waha-sim:dev", environment: environment, labels: labels, hostPort: port,
                              containerPort: 3000, volume: VolumeMount(name: "\(name)-sessions", mountPath: "/app/.sessions"))
        default:
            throw BenchError("unknown runtime '\(kind)' (local, docker or swarm)")
        }
        _ = try await runtime.launch(spec)
        Acks.print("launched")
        while true { try await Task.sleep(for: .seconds(3600)) }
    }
}
