import DockerRuntime
import Foundation
import Logging
import WhagoCore

/// `whago-bench docker --socket PATH --image NAME [--workers N] [--concurrency C] [--port-base P]`:
/// N workers launched, inspected and removed through whago's docker driver, one at a time and C at
/// a time. Prints `whago sequential <seconds>` and `whago concurrent <seconds>`.
///
/// Workers are what whago launches: host networking, env, labels, a memory limit, Docker's init
/// and a named volume; scripts/bench/docker does the same through docker-py and the docker CLI.
/// Every client stops with a grace of 0 (SIGKILL at once): a SIGTERM that reaches a container in
/// its first milliseconds, before its PID 1 has a handler, is dropped by the kernel and would turn
/// a random stop into a 10 s wait, measuring luck instead of the client.
/// `WHAGO_BENCH_VERBOSE=1` prints each worker's launch, inspect and remove times on stderr.
enum DockerBenchmark {
    static func run(socket: String, image: String, workers: Int, concurrency: Int, portBase: Int) async throws {
        var logger = Logger(label: "bench")
        logger.logLevel = .critical
        let runtime = DockerRuntime(socket: socket, network: "host", restart: "no", stopGrace: .zero, removeVolumes: false,
                                    logger: logger)
        _ = try await runtime.ping()  // negotiation happens before the clock starts, as docker-py's version="auto"
        try await perCall(runtime, image: image, port: portBase + workers)
        for (mode, parallel) in [("sequential", 1), ("concurrent", concurrency)] {
            let start = ContinuousClock.now
            try await withThrowingTaskGroup(of: Void.self) { group in
                var next = 0
                func add() {
                    let index = next
                    next += 1
                    group.addTask { try await cycle(runtime, mode: mode, index: index, image: image, port: portBase + index) }
                }
                for _ in 0..<min(parallel, workers) { add() }
                while try await group.next() != nil {
                    if next < workers { add() }
                }
            }
            let elapsed = ContinuousClock.now - start
            print("whago \(mode) \(String(format: "%.3f", elapsed.seconds))")
        }
    }

    /// The client's own cost: 500 inspections of one worker, where dockerd has almost nothing to do.
    /// Prints `whago inspect-us <microseconds per call>`.
    private static func perCall(_ runtime: DockerRuntime, image: String, port: Int) async throws {
        let spec = WorkerSpec(name: "bench-whago-calls", image: image, environment: ["WAHA_SIM_HOST": "127.0.0.1"],
                              labels: [WorkerLabel.instance: "bench"], hostPort: port, containerPort: port)
        let handle = try await runtime.launch(spec)
        let calls = 500
        let start = ContinuousClock.now
        for _ in 0..<calls { _ = try await runtime.inspect(handle) }
        let elapsed = ContinuousClock.now - start
        try await runtime.remove(handle)
        print("whago inspect-us \(String(format: "%.0f", elapsed.seconds / Double(calls) * 1e6))")
    }

    private static func cycle(_ runtime: DockerRuntime, mode: String, index: Int, image: String, port: Int) async throws {
        let name = "bench-whago-\(mode)-\(index)"
        let spec = WorkerSpec(name: name, image: image, environment: ["WAHA_SIM_HOST": "127.0.0.1"],
                              labels: [WorkerLabel.instance: "bench", WorkerLabel.worker: name], hostPort: port, containerPort: port,
                              volume: VolumeMount(name: "\(name)-sessions", mountPath: "/app/.sessions"))
        let clock = ContinuousClock()
        let t0 = clock.now
        let handle = try await runtime.launch(spec)
        let t1 = clock.now
        guard try await runtime.inspect(handle) != nil else { throw WhagoError(.internal, "\(name) vanished") }
        let t2 = clock.now
        try await runtime.remove(handle)
        let t3 = clock.now
        if ProcessInfo.processInfo.environment["WHAGO_BENCH_VERBOSE"] != nil {
            FileHandle.standardError.write(Data("\(name) launch \(t1 - t0) inspect \(t2 - t1) remove \(t3 - t2)\n".utf8))
        }
    }
}
