public import CurlHTTP
public import WhagoCore
import DockerEngine
public import Foundation
public import Logging

/// The `docker` runtime: workers as containers, through the Docker Engine API over its socket.
///
/// Every call goes through CurlHTTP (one libcurl connection pool); the API version is negotiated
/// once. Docker, not whago, is the source of truth about what runs: workers are found again by
/// their `whago.*` labels, and a launch that finds its name taken adopts the container when the
/// labels match.
public final class DockerRuntime: ContainerRuntime {
    /// The registration entry.
    public static let driver = Driver<any ContainerRuntime>(
        kind: .runtime, name: "docker",
        summary: "WAHA workers as Docker containers, through the Docker Engine API socket",
        sampleConfig: DockerConfiguration.sample,
        configuration: DockerConfiguration.self
    ) { configuration, context in
        DockerRuntime(configuration: configuration, instance: context.instance.rawValue, logger: context.logger)
    }

    let configuration: DockerConfiguration
    let client: DockerClient
    /// Events are filtered on `whago.instance=<instance>` (any whago instance when `nil`).
    let instance: String?
    let logger: Logger

    init(configuration: DockerConfiguration, instance: String?, logger: Logger, http: HTTPClient = .shared) {
        self.configuration = configuration
        // The configuration was validated when decoded.
        self.client = DockerClient(socket: configuration.socket, tls: configuration.tls, plainTCP: configuration.plainTCP, http: http)
        self.instance = instance
        self.logger = logger
    }

    /// A runtime on the daemon at `socket` (a unix socket path or `tcp://host:port`), for tests,
    /// benchmarks and embedding; the other settings are `runtime.docker`'s.
    /// - Parameters:
    ///   - network: `bridge` or `host`.
    ///   - restart: `no`, `always`, `on-failure` or `unless-stopped`.
    ///   - healthCheckCommand: the command run inside workers that have a health path
    ///     (`{port}` and `{path}` replaced); `nil` tries wget, curl, then node.
    ///   - instance: the `whago.instance` label events are filtered on.
    ///   - tls: PEM files (CA, client certificate, key) for a `tcp://` daemon started with `--tlsverify`.
    public convenience init(
        socket: String, tls: (ca: String, cert: String, key: String)? = nil,
        network: String = "bridge", restart: String = "unless-stopped", stopGrace: Duration = .seconds(10),
        removeVolumes: Bool = false, pull: Bool = false, healthCheckCommand: [String]? = nil, healthCheckInterval: Duration = .seconds(30),
        ports: PortRange = PortRange("3100-3199")!, instance: String? = nil, logger: Logger = Logger(label: "whago.runtime.docker"), http: HTTPClient = .shared
    ) {
        var configuration = DockerConfiguration()
        configuration.socket = socket
        configuration.tls = tls.map { DockerTLS(ca: $0.ca, cert: $0.cert, key: $0.key) }
        configuration.network = DockerConfiguration.Network(rawValue: network) ?? .bridge
        configuration.restart = DockerConfiguration.RestartPolicy(rawValue: restart) ?? .unlessStopped
        configuration.stopGrace = TimeSpan(stopGrace)
        configuration.removeVolumes = removeVolumes
        configuration.pull = pull
        configuration.healthCheck.command = healthCheckCommand
        configuration.healthCheck.interval = TimeSpan(healthCheckInterval)
        configuration.healthCheck.startPeriod = TimeSpan(healthCheckInterval)
        configuration.ports = ports
        self.init(configuration: configuration, instance: instance, logger: logger, http: http)
    }

    /// Workers are published on 127.0.0.1 (bridge) or listen on the host's addresses (host
    /// network): whago reaches them on the loopback either way.
    public var workerPorts: WorkerPorts {
        WorkerPorts(host: "127.0.0.1", range: configuration.ports, setting: "runtime.docker.ports")
    }

    /// On the bridge network a worker's 127.0.0.1 is its own: whago must be reached through the
    /// host gateway (`host.docker.internal`) and listen where the gateway leads.
    public func webhookReachability(publicURL: URL, listen: HostPort) -> String? {
        guard configuration.network == .bridge else { return nil }
        let host = publicURL.host ?? ""
        if isLoopbackHost(host) {
            return "server.publicURL \(publicURL.absoluteString) names a loopback address, which a worker on the bridge network reaches "
                + "inside its own container; set server.publicURL to http://host.docker.internal:\(listen.port) (and listen on the bridge "
                + "gateway, e.g. 172.17.0.1, or 0.0.0.0)"
        }
        if isLoopbackHost(listen.host) {
            return "whago listens on \(listen) only, which workers on the bridge network cannot reach through \(host); "
                + "set server.listen to the bridge gateway's address (e.g. 172.17.0.1:\(listen.port)) or 0.0.0.0:\(listen.port)"
        }
        return nil
    }

    // MARK: Health

    public func healthCheck() async -> HealthReport {
        do {
            let negotiated = try await client.negotiate()
            let workers = try await list(labels: instance.map { [WorkerLabel.instance: $0] } ?? [:]).count
            let summary = "Docker \(negotiated.engineVersion) (API \(negotiated.daemonAPIVersion), speaking \(negotiated.apiVersion)) at "
                + "\(client.endpoint), \(workers) whago worker\(workers == 1 ? "" : "s"), network \(configuration.network.rawValue), "
                + "ports \(configuration.ports)"
            guard configuration.network == .bridge else {
                return .warning(summary + "; with network host every worker (untrusted third-party code) can reach every service "
                                + "listening on this host's loopback (whago's API, PostgreSQL, a tcp dockerd)",
                                fix: "use network: bridge unless this host runs nothing else on 127.0.0.1")
            }
            return .ok(summary)
        } catch let error as WhagoError where error.code == .invalidConfig {
            return .error(error.message, fix: configuration.tls == nil && client.endpoint.refusal(tls: false) != nil
                ? "set runtime.docker.tls, or use the daemon's unix socket" : "upgrade Docker to 20.10 or newer")
        } catch let error as WhagoError {
            return .error(error.message, fix: fix(for: error))
        } catch {
            return .error("the Docker daemon at \(client.endpoint) failed: \(error)")
        }
    }

    private func fix(for error: WhagoError) -> String {
        switch client.endpoint {
        case .unixSocket(let path):
            if error.message.localizedCaseInsensitiveContains("permission") {
                return "give whago's user access to \(path) (the docker group), or run whago as root"
            }
            return "start dockerd, or point runtime.docker.socket at its socket (unix:///path or tcp://host:port)"
        case .tcp:
            return "check that dockerd listens on \(client.endpoint) (dockerd -H tcp://…) and that this host may reach it"
        }
    }

    public func ping() async throws -> RuntimeInfo {
        let negotiated = try await client.negotiate()
        return RuntimeInfo(driver: "docker", version: "Docker \(negotiated.engineVersion) (API \(negotiated.daemonAPIVersion))")
    }

    // MARK: Workers

    public func launch(_ spec: WorkerSpec) async throws -> WorkerHandle {
        guard Self.isValidName(spec.name) else {
            throw WhagoError(.invalidConfig, "worker name '\(spec.name)' is not a valid container name (letters, digits, '_', '.', '-', at least 2, starting with a letter or digit)")
        }
        let body = ContainerCreateBody(spec, configuration)
        var pulled = false
        while true {
            let reply = try await client.send(.post, "/containers/create", query: [("name", spec.name)], json: body)
            switch reply.status {
            case 201:
                let created = try reply.decode(ContainerCreated.self, "create")
                for warning in created.Warnings ?? [] {
                    logger.warning("docker warned while creating worker", metadata: ["worker": "\(spec.name)", "warning": "\(warning)"])
                }
                let handle = WorkerHandle(runtimeID: created.Id, name: spec.name, labels: WhagoLabels.of(spec.labels))
                do {
                    try await start(handle)
                } catch {
                    // A container that cannot start is not left behind to be adopted half-made.
                    _ = try? await client.send(.delete, "/containers/\(created.Id)", query: [("force", "true")])
                    throw error
                }
                logger.info("worker container started", metadata: ["worker": "\(spec.name)", "container": "\(created.Id.prefix(12))", "image": "\(spec.image)"])
                return handle
            case 409:
                return try await adopt(spec)
            case 404 where reply.message.localizedCaseInsensitiveContains("image"):
                guard configuration.pull, !pulled else { throw missingImage(spec.image, reply.message) }
                try await pull(spec.image)
                pulled = true
            default:
                throw reply.failure("creating worker \(spec.name)")
            }
        }
    }

    /// The container already named `spec.name`: adopted (and started) when its `whago.*` labels are
    /// the spec's, a conflict otherwise.
    private func adopt(_ spec: WorkerSpec) async throws -> WorkerHandle {
        guard let existing = try await inspectContainer(spec.name) else {
            throw WhagoError(.conflict, "the container name \(spec.name) is taken, but the container vanished while whago looked at it; retry")
        }
        let labels = WhagoLabels.of(existing.Config.Labels ?? [:])
        guard labels == WhagoLabels.of(spec.labels) else {
            throw WhagoError(.conflict, """
                a container named \(spec.name) already exists with other labels (\(Self.describe(labels))); \
                it is not whago's to take over: remove or rename it
                """)
        }
        let handle = WorkerHandle(runtimeID: existing.Id, name: spec.name, labels: labels)
        if existing.State.Running != true { try await start(handle) }
        logger.info("worker container adopted", metadata: ["worker": "\(spec.name)", "container": "\(existing.Id.prefix(12))"])
        return handle
    }

    private func start(_ handle: WorkerHandle) async throws {
        let reply = try await client.send(.post, "/containers/\(handle.runtimeID)/start")
        guard reply.status == 204 || reply.status == 304 else { throw reply.failure("starting worker \(handle.name)") }
    }

    public func inspect(_ handle: WorkerHandle) async throws -> WorkerState? {
        guard let container = try await inspectContainer(handle.runtimeID) else { return nil }
        return Self.state(container.State)
    }

    /// `GET /containers/{id or name}/json`, `nil` on 404.
    private func inspectContainer(_ reference: String) async throws -> ContainerInspect? {
        let reply = try await client.send(.get, "/containers/\(DockerClient.percentEncoded(reference))/json")
        switch reply.status {
        case 200: return try reply.decode(ContainerInspect.self, "inspect")
        case 404: return nil
        default: throw reply.failure("inspecting \(reference)")
        }
    }

    static func state(_ state: ContainerInspect.StateBody) -> WorkerState {
        let status: WorkerState.Status = switch state.Status {
        case "created": .created
        case "running", "paused": .running
        case "restarting": .restarting
        case "exited": .exited
        default: .dead  // "removing", "dead"
        }
        let health: WorkerState.Health? = switch state.Health?.Status {
        case "starting": .starting
        case "healthy": .healthy
        case "unhealthy": .unhealthy
        default: nil
        }
        let exitCode = status == .exited || status == .dead ? state.ExitCode : nil
        return WorkerState(status: status, health: health, exitCode: exitCode, startedAt: DockerTime.parse(state.StartedAt))
    }

    public func stop(_ handle: WorkerHandle, grace: Duration) async throws {
        guard try await ownedContainer(handle) != nil else { return }
        try await stopContainer(handle, grace: grace)
    }

    private func stopContainer(_ handle: WorkerHandle, grace: Duration) async throws {
        let seconds = max(0, Int(grace.seconds.rounded(.up)))
        let reply = try await client.send(.post, "/containers/\(handle.runtimeID)/stop", query: [("t", "\(seconds)")],
                                          timeout: grace + .seconds(60))
        guard [204, 304, 404].contains(reply.status) else { throw reply.failure("stopping worker \(handle.name)") }
    }

    public func remove(_ handle: WorkerHandle) async throws {
        guard let container = try await ownedContainer(handle) else { return }
        // Stopped first with the configured grace, so the worker shuts down cleanly (force only
        // kills what is left).
        try await stopContainer(handle, grace: configuration.stopGrace.duration)
        // `v=true` only removes anonymous volumes; the worker's named volumes go explicitly.
        let volumes = configuration.removeVolumes ? (container.Mounts ?? []).filter { $0.Type == "volume" }.compactMap(\.Name) : []
        let reply = try await client.send(.delete, "/containers/\(handle.runtimeID)",
                                          query: [("force", "true"), ("v", configuration.removeVolumes ? "true" : "false")])
        guard [204, 404].contains(reply.status) || (reply.status == 409 && reply.message.contains("already in progress")) else {
            throw reply.failure("removing worker \(handle.name)")
        }
        for volume in volumes {
            let reply = try await client.send(.delete, "/volumes/\(DockerClient.percentEncoded(volume))")
            if ![204, 404].contains(reply.status) {
                logger.warning("the worker's volume was not removed",
                               metadata: ["worker": "\(handle.name)", "volume": "\(volume)", "reason": "\(reply.message)"])
            }
        }
    }

    /// The container behind `handle` when it is whago's to stop or remove — it carries a
    /// `whago.instance` label, and this instance's when the runtime has one — or nil when it is
    /// gone. A container id can come from a record an attacker touched, or be reused: whago never
    /// stops a container it did not make.
    private func ownedContainer(_ handle: WorkerHandle) async throws -> ContainerInspect? {
        guard let container = try await inspectContainer(handle.runtimeID) else { return nil }
        let label = container.Config.Labels?[WorkerLabel.instance]
        guard let label, instance == nil || label == instance else {
            throw WhagoError(.conflict, "container \(WorkerText.clean(container.bareName, limit: 128)) is not a worker of this whago "
                + "(its \(WorkerLabel.instance) label is \(label.map { "'\(WorkerText.clean($0, limit: 64))'" } ?? "missing")); "
                + "whago does not stop or remove it")
        }
        return container
    }

    public func list(labels: [String: String]) async throws -> [WorkerHandle] {
        let filter = labels.isEmpty ? [WorkerLabel.instance] : labels.map { "\($0.key)=\($0.value)" }.sorted()
        let reply = try await client.send(.get, "/containers/json",
                                          query: [("all", "true"), ("filters", DockerClient.filters(["label": filter]))])
        guard reply.status == 200 else { throw reply.failure("listing workers") }
        return try reply.decode([ContainerSummary].self, "list")
            .map { WorkerHandle(runtimeID: $0.Id, name: $0.bareName, labels: WhagoLabels.of($0.Labels ?? [:])) }
            .sorted { $0.name < $1.name }
    }

    public func events() -> AsyncThrowingStream<RuntimeEvent, any Error> {
        DockerEvents(client: client, instance: instance, logger: logger).stream()
    }

    // MARK: Images

    /// Pulls `image` from its registry, only ever called when `pull: true`.
    private func pull(_ image: String) async throws {
        let reference = ImageReference(image)
        logger.notice("pulling a missing image", metadata: ["image": "\(image)"])
        var query = [("fromImage", reference.repository)]
        if let tag = reference.tag { query.append(("tag", tag)) }
        let response = try await client.stream(.post, "/images/create", query: query, timeout: .seconds(1800))
        var lines: [String] = []
        do {
            for try await line in response.lines where !line.isEmpty {
                if lines.count < 5 { lines.append(line) }
                if let progress = try? JSONDecoder().decode(PullProgress.self, from: Data(line.utf8)),
                   let error = progress.errorDetail?.message ?? progress.error {
                    throw WhagoError(.notFound, "pulling image \(image) failed: \(error)")
                }
            }
        } catch let error as HTTPClientError {
            throw WhagoError(.unavailable, "pulling image \(image) was interrupted: \(error.message)")
        }
        guard response.status == 200 else {
            let message = lines.first.flatMap { try? JSONDecoder().decode([String: String].self, from: Data($0.utf8))["message"] } ?? lines.joined()
            // 404: no such repository (or no access); anything else: the registry could not be reached.
            throw WhagoError(response.status == 404 ? .notFound : .unavailable, "pulling image \(image) failed (\(response.status)): \(message)")
        }
    }

    private func missingImage(_ image: String, _ message: String) -> WhagoError {
        WhagoError(.notFound, """
            image \(image) is not in the Docker daemon at \(client.endpoint) (\(message)); load it with \
            `docker load -i <file.tar>` or `docker pull \(image)` on that host, or set runtime.docker.pull: true \
            to let whago pull it
            """)
    }

    // MARK: Helpers

    /// Docker's container name pattern, `[a-zA-Z0-9][a-zA-Z0-9_.-]+`.
    static func isValidName(_ name: String) -> Bool {
        guard name.count >= 2, let first = name.unicodeScalars.first, first.isASCIIAlphanumeric else { return false }
        return name.unicodeScalars.allSatisfy { $0.isASCIIAlphanumeric || "_.-".unicodeScalars.contains($0) }
    }

    private static func describe(_ labels: [String: String]) -> String {
        labels.isEmpty ? "none of whago's" : labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ", ")
    }
}

extension Unicode.Scalar {
    fileprivate var isASCIIAlphanumeric: Bool {
        ("a"..."z").contains(self) || ("A"..."Z").contains(self) || ("0"..."9").contains(self)
    }
}

/// `repository[:tag]` or `repository@digest`, split the way `/images/create` wants it.
struct ImageReference: Sendable, Hashable {
    var repository: String
    /// `nil` with a digest (the digest stays in the repository part); `latest` when none was given,
    /// since an empty tag would pull every tag.
    var tag: String?

    init(repository: String, tag: String?) {
        self.repository = repository
        self.tag = tag
    }

    init(_ image: String) {
        if image.contains("@") {
            repository = image
            tag = nil
        } else if let colon = image.lastIndex(of: ":"), !image[colon...].contains("/") {
            repository = String(image[..<colon])
            tag = String(image[image.index(after: colon)...])
        } else {
            repository = image
            tag = "latest"
        }
    }
}
