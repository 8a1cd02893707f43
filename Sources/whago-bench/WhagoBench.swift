import CurlHTTP
import Foundation
import Hummingbird
import WhagoCore

/// `whago-bench http-client [--requests N] [--concurrency C]`: CurlHTTP against the `curl` command on
/// one local server, sequentially and C at a time. Prints requests/s for each and the two ratios
/// (CurlHTTP ÷ curl); the last line is `ratio sequential=<x> concurrent=<y>`.
@main
struct WhagoBench {
    /// An error ends the run with its description on stderr and exit status 1 (thrown out of
    /// `main`, it would be a crash, and a crash report costs the machine seconds of CPU).
    static func main() async {
        do {
            try await run()
        } catch {
            FileHandle.standardError.write(Data("whago-bench: \(error)\n".utf8))
            exit(1)
        }
    }

    static func run() async throws {
        var arguments = CommandLine.arguments.dropFirst()
        if arguments.first == "store-crash-writer" {
            try await StoreCrashWriter.run(Array(arguments.dropFirst()))
            return
        }
        if arguments.first == "provision" {
            var options = arguments.dropFirst()
            var tenants = 100, chips = 10, rounds = 3
            while let option = options.popFirst() {
                switch option {
                case "--tenants": tenants = Int(options.popFirst() ?? "") ?? tenants
                case "--chips": chips = Int(options.popFirst() ?? "") ?? chips
                case "--rounds": rounds = Int(options.popFirst() ?? "") ?? rounds
                default:
                    print("unknown option \(option)")
                    exit(2)
                }
            }
            try await ProvisionBenchmark.run(tenants: tenants, chipsPerTenant: chips, rounds: rounds)
            return
        }
        if arguments.first == "api" {
            try await APIBenchmark.run(Array(arguments.dropFirst()))
            return
        }
        if arguments.first == "chip-burst" {
            try await ChipBurst.run(Array(arguments.dropFirst()))
            return
        }
        if arguments.first == "placement" {
            try await PlacementBenchmark.run(Array(arguments.dropFirst()))
            return
        }
        if arguments.first == "runtime-launch" {
            try await RuntimeLaunch.run(Array(arguments.dropFirst()))
            return
        }
        if arguments.first == "http-client-leaks" {
            try await HTTPClientLeakCheck.run(server: HTTPClientBenchmark(requests: 0, concurrency: 1))
            return
        }
        if arguments.first == "store" {
            var options = arguments.dropFirst()
            var operations = 2_000
            var postgres: String?
            while let option = options.popFirst() {
                switch option {
                case "--operations": operations = Int(options.popFirst() ?? "") ?? operations
                case "--postgres": postgres = options.popFirst()
                default:
                    print("unknown option \(option)")
                    exit(2)
                }
            }
            try await StoreBenchmark.run(operations: operations, postgresURL: postgres)
            return
        }
        if arguments.first == "docker" {
            var options = arguments.dropFirst()
            var socket = "/var/run/docker.sock", image = "whago/waha-sim:dev"
            var workers = 50, concurrency = 10, portBase = 24_000
            while let option = options.popFirst() {
                switch option {
                case "--socket": socket = options.popFirst() ?? socket
                case "--image": image = options.popFirst() ?? image
                case "--workers": workers = Int(options.popFirst() ?? "") ?? workers
                case "--concurrency": concurrency = Int(options.popFirst() ?? "") ?? concurrency
                case "--port-base": portBase = Int(options.popFirst() ?? "") ?? portBase
                default:
                    print("unknown option \(option)")
                    exit(2)
                }
            }
            try await DockerBenchmark.run(socket: socket, image: image, workers: workers, concurrency: concurrency, portBase: portBase)
            return
        }
        guard arguments.first == "http-client" else {
            print("""
                usage: whago-bench http-client [--requests N] [--concurrency C] | store [--operations N] [--postgres URL] \
                | docker [--socket PATH] [--image NAME] [--workers N] [--concurrency C] [--port-base P] | store-crash-writer DIR|--postgres URL SCHEMA \
                | provision [--tenants N] [--chips M] [--rounds R] | chip-burst DIR PORTS INSTANCE CHIPS [--postgres URL SCHEMA] | http-client-leaks | runtime-launch local WORKDIR|docker SOCKET NAME PORT
                """)
            exit(2)
        }
        arguments = arguments.dropFirst()
        var requests = 2_000
        var concurrency = 32
        while let option = arguments.popFirst() {
            switch option {
            case "--requests": requests = Int(arguments.popFirst() ?? "") ?? requests
            case "--concurrency": concurrency = Int(arguments.popFirst() ?? "") ?? concurrency
            default:
                print("unknown option \(option)")
                exit(2)
            }
        }
        try await HTTPClientBenchmark(requests: requests, concurrency: concurrency).run()
    }
}

struct HTTPClientBenchmark {
    let requests: Int
    let concurrency: Int

    func run() async throws {
        let port = try await startServer()
        let url = "http://127.0.0.1:\(port)/hello"
        print("server: Hummingbird on 127.0.0.1:\(port), \(requests) GETs of a 5-byte body")

        // Warm both paths up (page cache, connection setup) before measuring.
        _ = try await curlRate(url: url, count: 50, parallel: nil)
        _ = try await clientRate(url: url, count: 50, concurrency: 1)

        let curlSequential = try await curlRate(url: url, count: requests, parallel: nil)
        let clientSequential = try await clientRate(url: url, count: requests, concurrency: 1)
        let curlConcurrent = try await curlRate(url: url, count: requests, parallel: concurrency)
        let clientConcurrent = try await clientRate(url: url, count: requests, concurrency: concurrency)

        func show(_ label: String, _ rate: Double) { print(label.padding(toLength: 34, withPad: " ", startingAt: 0) + String(format: "%10.0f req/s", rate)) }
        show("curl, sequential", curlSequential)
        show("CurlHTTP, sequential", clientSequential)
        show("curl --parallel-max \(concurrency)", curlConcurrent)
        show("CurlHTTP, \(concurrency) at a time", clientConcurrent)
        print(String(format: "ratio sequential=%.2f concurrent=%.2f", clientSequential / curlSequential, clientConcurrent / curlConcurrent))
    }

    /// Requests per second of one `curl` process fetching the URL `count` times (one reused
    /// connection when sequential; `--parallel` otherwise).
    private func curlRate(url: String, count: Int, parallel: Int?) async throws -> Double {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        var arguments = ["-s"]
        if let parallel { arguments += ["--parallel", "--parallel-max", "\(parallel)"] }
        arguments += Array(repeating: url, count: count)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        let start = ContinuousClock.now
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw BenchError("curl exited with \(process.terminationStatus)") }
        return Double(count) / (ContinuousClock.now - start).seconds
    }

    /// Requests per second of CurlHTTP fetching the URL `count` times, `concurrency` at a time.
    private func clientRate(url: String, count: Int, concurrency: Int) async throws -> Double {
        let client = HTTPClient.shared
        let start = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for worker in 0..<concurrency {
                group.addTask {
                    for _ in stride(from: worker, to: count, by: concurrency) {
                        let response = try await client.execute(HTTPClientRequest(.get, url))
                        guard response.status == 200 else { throw BenchError("status \(response.status)") }
                    }
                }
            }
            try await group.waitForAll()
        }
        return Double(count) / (ContinuousClock.now - start).seconds
    }

    func startServer() async throws -> Int {
        let router = Router()
        router.get("hello") { _, _ in "hello" }
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        let app = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in
                continuation.yield(channel.localAddress?.port ?? 0)
                continuation.finish()
            }
        )
        Task { try await app.runService(gracefulShutdownSignals: []) }
        for await port in ports { return port }
        throw BenchError("the server did not start")
    }
}

struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}


