public import WhagoCore
import Foundation

/// The `local` runtime: workers as child processes of whago (by default `whago waha-sim`).
///
/// The embedded default, for development and for trying whago without Docker. This build checks
/// the worker command at startup; launching, adopting and watching processes arrive with the
/// container-runtimes issue, and until then those operations fail with `not_implemented`.
public struct LocalProcessRuntime: ContainerRuntime {
    /// The registration entry.
    public static let driver = Driver<any ContainerRuntime>(
        kind: .runtime, name: "local",
        summary: "WAHA workers as child processes (default: this whago binary running waha-sim)",
        sampleConfig: LocalProcessConfiguration.sample,
        configuration: LocalProcessConfiguration.self
    ) { configuration, context in
        LocalProcessRuntime(configuration: configuration, context: context)
    }

    let command: [String]
    let workDirectory: String
    let configuration: LocalProcessConfiguration

    init(configuration: LocalProcessConfiguration, context: DriverContext) {
        self.configuration = configuration
        self.command = configuration.command ?? [Self.currentExecutable(), "waha-sim"]
        self.workDirectory = configuration.workDir ?? "\(context.dataDirectory)/workers"
    }

    /// This process's own executable, so the default worker is the same whago build.
    static func currentExecutable() -> String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }

    public func healthCheck() async -> HealthReport {
        guard let program = command.first, let path = Self.resolve(program) else {
            return .error("worker command '\(command.first ?? "")' not found",
                          fix: "set runtime.local.command to an executable path, e.g. [/usr/local/bin/whago, waha-sim]")
        }
        guard FileManager.default.isExecutableFile(atPath: path) else {
            return .error("worker command '\(path)' is not executable", fix: "chmod +x \(path)")
        }
        do {
            try FileManager.default.createDirectory(atPath: workDirectory, withIntermediateDirectories: true)
        } catch {
            return .error("cannot create the workers' directory '\(workDirectory)': \(error.localizedDescription)",
                          fix: "set runtime.local.workDir to a writable directory")
        }
        return .ok("workers run '\(([path] + command.dropFirst()).joined(separator: " "))' on ports \(configuration.ports), data in \(workDirectory)")
    }

    /// An absolute or relative path as it is, a bare name through `PATH`.
    static func resolve(_ program: String) -> String? {
        if program.contains("/") { return FileManager.default.fileExists(atPath: program) ? program : nil }
        let paths = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin").split(separator: ":")
        return paths.map { "\($0)/\(program)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    public func ping() async throws -> RuntimeInfo {
        RuntimeInfo(driver: "local", version: ProcessInfo.processInfo.operatingSystemVersionString)
    }

    public func launch(_ spec: WorkerSpec) async throws -> WorkerHandle { throw notYet("launch") }
    public func inspect(_ handle: WorkerHandle) async throws -> WorkerState? { throw notYet("inspect") }
    public func stop(_ handle: WorkerHandle, grace: Duration) async throws { throw notYet("stop") }
    public func remove(_ handle: WorkerHandle) async throws { throw notYet("remove") }
    public func list(labels: [String: String]) async throws -> [WorkerHandle] { throw notYet("list") }

    public func events() -> AsyncThrowingStream<RuntimeEvent, any Error> {
        AsyncThrowingStream { $0.finish(throwing: notYet("events")) }
    }

    private func notYet(_ operation: String) -> WhagoError { .notImplemented(driver: "local", operation) }
}

/// `runtime.local`.
struct LocalProcessConfiguration: DriverConfiguration {
    enum RestartPolicy: String, Decodable, CaseIterable {
        case never, always
        case onFailure = "on-failure"
    }

    /// The worker command; `nil` means this whago binary with `waha-sim`.
    var command: [String]?
    var host: String
    var ports: PortRange
    /// Where each worker's data and log live; `nil` means `<server.dataDir>/workers`.
    var workDir: String?
    var restart: RestartPolicy
    var stopGrace: TimeSpan

    enum CodingKeys: String, CodingKey, CaseIterable {
        case command, host, ports, workDir, restart, stopGrace
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        command = try container.decodeIfPresent([NonEmptyString].self, forKey: .command)?.map(\.value)
        if command?.isEmpty == true { throw ConfigValueError("'command' must name a program") }
        host = try container.decodeIfPresent(NonEmptyString.self, forKey: .host)?.value ?? "127.0.0.1"
        ports = try container.decodeIfPresent(PortRange.self, forKey: .ports) ?? PortRange("3100-3199")!
        workDir = try container.decodeIfPresent(NonEmptyString.self, forKey: .workDir)?.value
        restart = try container.decodeIfPresent(RestartPolicy.self, forKey: .restart) ?? .onFailure
        stopGrace = try container.decodeIfPresent(TimeSpan.self, forKey: .stopGrace) ?? .seconds(10)
    }

    static let sample = """
        local:
          # command: [/usr/local/bin/whago, waha-sim]   # default: this whago binary with waha-sim
          host: 127.0.0.1                # workers listen here
          ports: 3100-3199               # ports leased to workers, one each
          # workDir: .whago/workers      # per-worker data and logs (default: <server.dataDir>/workers)
          restart: on-failure            # never, always, on-failure
          stopGrace: 10s                 # SIGTERM, then SIGKILL after this
        """
}
