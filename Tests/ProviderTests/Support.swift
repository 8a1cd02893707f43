import CurlHTTP
import Foundation
import Hummingbird
import LocalProcessRuntime
import Testing
import WAHAPlusProvider
import WhagoCore
import WhagoTesting

/// A WAHA worker as whago runs one: `whago waha-sim` launched by the `local` runtime from the
/// `waha-plus` template (hashed API key, excluded probe paths, worker id), on a free port.
struct Worker {
    let runtime: LocalProcessRuntime
    let handle: WorkerHandle
    let endpoint: WorkerEndpoint
    let directory: TemporaryDirectory
    /// Where the worker's template sends webhooks: a port that refuses them, for as long as the worker runs.
    let webhookPort: RefusingPort

    /// - timeScale: the simulator's; 5 makes the first QR code valid 12 s, so a test that scans
    ///   with a process of its own (slow to start on a busy machine) uses 1 (60 s).
    static func launch(_ provider: WAHAPlusProvider, name: String = "w1", probeURL: String? = nil, timeScale: Int = 5,
                       apiKey: String = "worker-key-\(UUID().uuidString)") async throws -> Worker {
        let directory = try TemporaryDirectory("provider-worker")
        var command = [WhagoBinary.path, "waha-sim", "--time-scale", "\(timeScale)"]
        if let probeURL { command += ["--probe-url", probeURL] }
        let runtime = LocalProcessRuntime(command: command, workDirectory: directory.path, restart: "never")
        let port = try freePort()
        let webhookPort = try RefusingPort()
        let template = provider.workerTemplate(WorkerContext(worker: WorkerID(rawValue: name), tenant: "t1", hostPort: port,
                                                             apiKey: Secret(apiKey), webhookURL: URL(string: "\(webhookPort.url)/hook")!))
        let handle = try await runtime.launch(WorkerSpec(name: name, image: template.image, environment: template.environment,
                                                         labels: [WorkerLabel.worker: name], hostPort: port, containerPort: port,
                                                         healthPath: template.healthPath))
        let endpoint = WorkerEndpoint(worker: WorkerID(rawValue: name), baseURL: URL(string: "http://127.0.0.1:\(port)")!, apiKey: Secret(apiKey))
        let deadline = ContinuousClock.now + .seconds(30)
        while (try? await HTTPClient.shared.execute(HTTPClientRequest(.get, "http://127.0.0.1:\(port)/ping", timeout: .seconds(2))))?.status != 200 {
            guard ContinuousClock.now < deadline else { throw WhagoError(.timedOut, "the worker never answered /ping") }
            try await Task.sleep(for: .milliseconds(20))
        }
        return Worker(runtime: runtime, handle: handle, endpoint: endpoint, directory: directory, webhookPort: webhookPort)
    }

    func stop() async {
        try? await runtime.remove(handle)
        directory.remove()
    }
}
