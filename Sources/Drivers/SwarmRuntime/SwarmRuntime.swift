public import CurlHTTP
public import WhagoCore
import DockerEngine
import Foundation
public import Logging
import Synchronization

/// The `swarm` runtime: workers as Docker Swarm services (one replicated task each), through a
/// swarm manager's Docker Engine API (`/services`, `/tasks`, `/nodes`) over CurlHTTP.
///
/// whago places each worker on a node (``nodes()``: the ready, active nodes that meet the
/// configured constraints; the least loaded, spread over the configured node labels) and leases
/// its port there; the service is pinned to that node, so Swarm runs and restarts the task there,
/// and whago reaches it at the node's address (its `whago.address` label, else the address it
/// joined the swarm with). When the node is lost (down, drained, removed, or no longer meeting
/// the constraints), ``inspect(_:)`` says so and whago moves the worker to another node with a
/// port leased there — Swarm alone could not: a pinned port may be taken on every other node.
/// The service, not whago's memory, is the source of truth: workers are found again by their
/// `whago.*` labels, and a launch that finds the name taken adopts the service when its labels match.
public final class SwarmRuntime: ContainerRuntime {
    /// The registration entry.
    public static let driver = Driver<any ContainerRuntime>(
        kind: .runtime, name: "swarm",
        summary: "WAHA workers as Docker Swarm services (one task each) on a swarm's nodes, through a manager's Docker API",
        sampleConfig: SwarmConfiguration.sample,
        configuration: SwarmConfiguration.self
    ) { configuration, context in
        SwarmRuntime(configuration: configuration, instance: context.instance.rawValue, logger: context.logger)
    }

    let configuration: SwarmConfiguration
    let client: DockerClient
    /// Events and ownership checks use `whago.instance=<instance>` (any whago instance when `nil`).
    let instance: String?
    let logger: Logger
    /// Node addresses by node id, and when they were read.
    /// Whether the daemon kept `NoNewPrivileges` in the last service whago created (see
    /// ``noNewPrivilegesKept``).
    let privileges = Mutex<Bool?>(nil)
    private let addresses = Mutex<[String: (address: String, at: ContinuousClock.Instant)]>([:])

    init(configuration: SwarmConfiguration, instance: String?, logger: Logger, http: HTTPClient = .shared) {
        self.configuration = configuration
        self.client = DockerClient(socket: configuration.socket, tls: configuration.tls, plainTCP: configuration.plainTCP, http: http)
        self.instance = instance
        self.logger = logger
    }

    /// A runtime on the swarm manager at `socket`, for tests and embedding; the other settings are
    /// `runtime.swarm`'s.
    /// - Parameters:
    ///   - healthCheckCommand: run inside workers that have a health path (`{port}`, `{path}` replaced).
    ///   - host: where whago reaches the workers of a node that advertised 0.0.0.0.
    ///   - nodeAddressVariable: the environment variable that tells a worker its node's address.
    public convenience init(socket: String, network: String = "host", restart: String = "any", stopGrace: Duration = .seconds(10),
                            removeVolumes: Bool = false, healthCheckCommand: [String]? = nil, healthCheckInterval: Duration = .seconds(30),
                            constraints: [String] = [], nodeAddressVariable: String? = nil, ports: PortRange = PortRange("3100-3199")!, host: String = "127.0.0.1",
                            pollInterval: Duration = .seconds(2), instance: String? = nil,
                            logger: Logger = Logger(label: "whago.runtime.swarm"), http: HTTPClient = .shared) {
        var configuration = SwarmConfiguration()
        configuration.socket = socket
        configuration.network = network
        configuration.restart = SwarmConfiguration.RestartCondition(rawValue: restart) ?? .any
        configuration.stopGrace = TimeSpan(stopGrace)
        configuration.removeVolumes = removeVolumes
        configuration.healthCheck.command = healthCheckCommand
        configuration.healthCheck.interval = TimeSpan(healthCheckInterval)
        configuration.healthCheck.startPeriod = TimeSpan(healthCheckInterval)
        configuration.constraints = constraints.compactMap(SwarmConstraint.init)
        configuration.nodeAddressVariable = nodeAddressVariable
        configuration.ports = ports
        configuration.host = host
        configuration.pollInterval = TimeSpan(pollInterval)
        self.init(configuration: configuration, instance: instance, logger: logger, http: http)
    }

    /// Workers run on the swarm's nodes, each reached at its node's address.
    public var placesWorkersOnSeveralHosts: Bool { true }

    /// Node label that overrides the address whago reaches a node's workers at (e.g. its address
    /// on the network whago is on, when the swarm's own traffic uses another).
    public static let addressLabel = "whago.address"

    /// The nodes that take workers: ready, active, and meeting every configured constraint; each
    /// with its address and its values of the spread labels.
    public func nodes() async throws -> [RuntimeNode] {
        try await swarmNodes().filter(admits).map(runtimeNode)
    }

    /// `GET /nodes`.
    func swarmNodes() async throws -> [NodeSummary] {
        let reply = try await client.send(.get, "/nodes")
        guard reply.status == 200 else { throw failure(reply, "listing the swarm's nodes") }
        return try reply.decode([NodeSummary].self, "listing the swarm's nodes")
    }

    /// Whether whago may place a worker on the node now.
    func admits(_ node: NodeSummary) -> Bool {
        node.takesWorkers && configuration.constraints.allSatisfy { $0.admits(node) }
    }

    func runtimeNode(_ node: NodeSummary) -> RuntimeNode {
        RuntimeNode(id: node.ID, name: node.Description?.Hostname.map { WorkerText.clean($0, limit: 64) } ?? node.ID,
                    address: address(of: node), spread: configuration.spread.map { node.attribute($0) })
    }

    /// Where whago reaches the node's workers: its `whago.address` label, else the address it
    /// joined with (a manager that advertised 0.0.0.0: ``SwarmConfiguration/host``).
    func address(of node: NodeSummary) -> String {
        if let label = node.Spec?.Labels?[Self.addressLabel]?.trimmingCharacters(in: .whitespaces), !label.isEmpty { return label }
        guard let address = node.Status?.Addr, !address.isEmpty, address != "0.0.0.0" else { return configuration.host }
        return address
    }

    public var workerPorts: WorkerPorts {
        WorkerPorts(host: configuration.host, range: configuration.ports, setting: "runtime.swarm.ports")
    }

    // MARK: Workers

    public func launch(_ spec: WorkerSpec) async throws -> WorkerHandle {
        guard Self.isValidName(spec.name) else {
            throw WhagoError(.invalidConfig, "worker name '\(WorkerText.clean(spec.name, limit: 64))' is not a valid service name "
                + "(letters, digits, '-' and '_', at most 63, starting and ending with a letter or digit)")
        }
        let reply = try await client.send(.post, "/services/create", json: ServiceSpecBody(spec, configuration))
        switch reply.status {
        case 201:
            let created = try reply.decode(ServiceCreated.self, "creating a service")
            for warning in created.Warnings ?? [] {
                logger.warning("docker warned while creating worker", metadata: ["worker": "\(spec.name)", "warning": "\(warning)"])
            }
            logger.info("worker service created", metadata: ["worker": "\(spec.name)", "service": "\(created.ID.prefix(12))", "image": "\(spec.image)"])
            await checkPrivileges(of: created.ID)
            return WorkerHandle(runtimeID: created.ID, name: spec.name, labels: WhagoLabels.of(spec.labels))
        case 409:
            return try await adopt(spec)
        default:
            throw failure(reply, "creating worker \(spec.name)")
        }
    }

    /// The service already named `spec.name`: adopted (and scaled back to one task) when its
    /// `whago.*` labels are the spec's, a conflict otherwise.
    private func adopt(_ spec: WorkerSpec) async throws -> WorkerHandle {
        guard let existing = try await service(spec.name) else {
            throw WhagoError(.conflict, "the service name \(spec.name) is taken, but the service vanished while whago looked at it; retry")
        }
        let labels = WhagoLabels.of(existing.Spec.Labels ?? [:])
        guard labels == WhagoLabels.of(spec.labels) else {
            throw WhagoError(.conflict, "a service named \(spec.name) already exists with other labels; it is not whago's to take over: remove or rename it")
        }
        if existing.replicas != 1 { try await scale(existing.ID, to: 1, grace: nil) }
        logger.info("worker service adopted", metadata: ["worker": "\(spec.name)", "service": "\(existing.ID.prefix(12))"])
        return WorkerHandle(runtimeID: existing.ID, name: spec.name, labels: labels)
    }

    public func inspect(_ handle: WorkerHandle) async throws -> WorkerState? {
        guard let service = try await service(handle.runtimeID) else { return nil }
        guard let (task, replacement) = try await currentTask(of: service.ID) else {
            return WorkerState(status: service.replicas == 0 ? .exited : .created)
        }
        var state = Self.state(task, wanted: service.replicas, restart: configuration.restart, replacement: replacement)
        if state.status == .running, let node = task.NodeID { state.address = try await address(ofNode: node) }
        if state.status != .running, service.replicas > 0, let pinned = service.Spec.Labels?[WorkerLabel.node] {
            // Not running, and bound to its node: lost with it when that node takes no workers now.
            state.nodeLost = try await !isUsable(node: pinned)
        }
        return state
    }

    /// Whether the node exists, is ready and active, and meets the constraints.
    private func isUsable(node id: String) async throws -> Bool {
        let reply = try await client.send(.get, "/nodes/\(DockerClient.percentEncoded(id))")
        switch reply.status {
        case 200: return admits(try reply.decode(NodeSummary.self, "inspecting a node"))
        case 404: return false
        default: throw failure(reply, "inspecting node \(id)")
        }
    }

    /// The task that stands for the worker now (the newest one meant to run, else the newest),
    /// and whether it replaces an earlier one.
    func currentTask(of service: String) async throws -> (task: TaskSummary, replacement: Bool)? {
        Self.current(among: try await tasks(filters: ["service": [service]]))
    }

    /// `GET /tasks` with Docker's filters.
    func tasks(filters: [String: [String]] = [:]) async throws -> [TaskSummary] {
        let reply = try await client.send(.get, "/tasks", query: filters.isEmpty ? [] : [("filters", DockerClient.filters(filters))])
        guard reply.status == 200 else { throw failure(reply, "listing tasks") }
        return try reply.decode([TaskSummary].self, "listing tasks")
    }

    /// Of one service's tasks, the one that stands for the worker, and whether it replaces another.
    static func current(among tasks: [TaskSummary]) -> (task: TaskSummary, replacement: Bool)? {
        let newest = { (tasks: [TaskSummary]) in tasks.max { ($0.Version?.Index ?? 0, $0.CreatedAt ?? "") < ($1.Version?.Index ?? 0, $1.CreatedAt ?? "") } }
        guard let current = newest(tasks.filter { $0.DesiredState == "running" }) ?? newest(tasks) else { return nil }
        return (current, tasks.count > 1)
    }

    /// A task's state as a worker's: a task that ended is `restarting` when Swarm will start
    /// another (the service wants a replica and its restart condition applies), else `exited`.
    /// A task being set up that replaces another (Swarm restarting the worker, or moving it) is
    /// `restarting`, the first one `created`.
    static func state(_ task: TaskSummary, wanted replicas: Int, restart: SwarmConfiguration.RestartCondition, replacement: Bool) -> WorkerState {
        let started = DockerTime.parse(task.Status.Timestamp)
        let code = task.Status.ContainerStatus?.ExitCode
        switch task.Status.State {
        case "running":
            return WorkerState(status: .running, startedAt: started)
        case "starting":
            // The container runs; Swarm waits for its first passing health check.
            return WorkerState(status: .running, health: .starting, startedAt: started)
        case "new", "pending", "assigned", "accepted", "ready", "preparing":
            return WorkerState(status: replacement && replicas > 0 ? .restarting : .created)
        default:  // complete, shutdown, failed, rejected, orphaned, remove
            let restarts = replicas > 0 && (restart == .any || (restart == .onFailure && code != 0))
            return WorkerState(status: restarts ? .restarting : .exited, exitCode: code)
        }
    }

    /// A node's address (see ``address(of:)``), cached for a minute (its label may change).
    private func address(ofNode id: String) async throws -> String? {
        let now = ContinuousClock.now
        if let known = addresses.withLock({ $0[id] }), now - known.at < .seconds(60) { return known.address }
        let reply = try await client.send(.get, "/nodes/\(DockerClient.percentEncoded(id))")
        guard reply.status == 200 else { return nil }
        let address = address(of: try reply.decode(NodeSummary.self, "inspecting a node"))
        addresses.withLock { $0[id] = (address, now) }
        return address
    }

    public func stop(_ handle: WorkerHandle, grace: Duration) async throws {
        guard let service = try await ownedService(handle) else { return }
        if service.replicas != 0 { try await scale(service.ID, to: 0, grace: grace) }
        try await waitForNoContainer(of: service.ID, within: grace + .seconds(30), doing: "stopping worker \(handle.name)")
        // Swarm records the task's end a moment after its container's: wait for it, so that
        // inspect says exited from now on.
        let deadline = ContinuousClock.now + .seconds(30)
        while let (task, _) = try await currentTask(of: service.ID), ["running", "starting"].contains(task.Status.State),
              ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    public func remove(_ handle: WorkerHandle) async throws {
        guard let service = try await ownedService(handle) else { return }
        // Scaled to zero first with the configured grace, so the worker shuts down cleanly.
        if service.replicas != 0 { try await scale(service.ID, to: 0, grace: configuration.stopGrace.duration) }
        let reply = try await client.send(.delete, "/services/\(service.ID)")
        guard [200, 404].contains(reply.status) else { throw failure(reply, "removing worker \(handle.name)") }
        // Its containers go after the service; the port is free (and the volume removable) only then.
        try await waitForNoContainer(of: service.ID, stopped: true, within: configuration.stopGrace.duration + .seconds(30),
                                     doing: "removing worker \(handle.name)")
        guard configuration.removeVolumes else { return }
        for volume in service.volumes {
            let removed = try await client.send(.delete, "/volumes/\(DockerClient.percentEncoded(volume))")
            if ![204, 404].contains(removed.status) {
                logger.warning("the worker's volume was not removed", metadata: ["worker": "\(handle.name)", "volume": "\(volume)", "reason": "\(removed.message)"])
            }
        }
    }

    public func list(labels: [String: String]) async throws -> [WorkerHandle] {
        let filter = labels.isEmpty ? [WorkerLabel.instance] : labels.map { "\($0.key)=\($0.value)" }.sorted()
        let reply = try await client.send(.get, "/services", query: [("filters", DockerClient.filters(["label": filter]))])
        guard reply.status == 200 else { throw failure(reply, "listing workers") }
        return try reply.decode([ServiceSummary].self, "listing services")
            .map { WorkerHandle(runtimeID: $0.ID, name: $0.Spec.Name, labels: WhagoLabels.of($0.Spec.Labels ?? [:])) }
            .sorted { $0.name < $1.name }
    }

    public func events() -> AsyncThrowingStream<RuntimeEvent, any Error> {
        SwarmEvents(runtime: self, interval: configuration.pollInterval.duration).stream()
    }

    // MARK: Helpers

    /// `GET /services/{id or name}`, `nil` on 404.
    func service(_ reference: String) async throws -> ServiceSummary? {
        let reply = try await client.send(.get, "/services/\(DockerClient.percentEncoded(reference))")
        switch reply.status {
        case 200: return try reply.decode(ServiceSummary.self, "inspecting a service")
        case 404: return nil
        default: throw failure(reply, "inspecting service \(reference)")
        }
    }

    /// The service behind `handle` when it is whago's to stop or remove (it carries this
    /// instance's `whago.instance` label), or nil when it is gone.
    private func ownedService(_ handle: WorkerHandle) async throws -> ServiceSummary? {
        guard let service = try await service(handle.runtimeID) else { return nil }
        let label = service.Spec.Labels?[WorkerLabel.instance]
        guard let label, instance == nil || label == instance else {
            throw WhagoError(.conflict, "service \(WorkerText.clean(service.Spec.Name, limit: 128)) is not a worker of this whago "
                + "(its \(WorkerLabel.instance) label is \(label.map { "'\(WorkerText.clean($0, limit: 64))'" } ?? "missing")); whago does not stop or remove it")
        }
        return service
    }

    /// Sets a service's replicas (and, when stopping, its tasks' stop grace): its current spec,
    /// read raw so that nothing whago does not know of is lost, updated at its version.
    private func scale(_ id: String, to replicas: Int, grace: Duration?) async throws {
        for _ in 0..<5 {
            let reply = try await client.send(.get, "/services/\(id)")
            if reply.status == 404 { return }
            guard reply.status == 200, let service = try JSONSerialization.jsonObject(with: Data(reply.body)) as? [String: Any],
                  let version = (service["Version"] as? [String: Any])?["Index"] as? Int, var spec = service["Spec"] as? [String: Any] else {
                throw failure(reply, "reading service \(id)")
            }
            spec["Mode"] = ["Replicated": ["Replicas": replicas]]
            if let grace, var template = spec["TaskTemplate"] as? [String: Any], var container = template["ContainerSpec"] as? [String: Any] {
                container["StopGracePeriod"] = Int64(grace.seconds * 1_000_000_000)
                template["ContainerSpec"] = container
                spec["TaskTemplate"] = template
            }
            let body = Array(try JSONSerialization.data(withJSONObject: spec, options: [.sortedKeys]))
            let update = try await client.send(.post, "/services/\(id)/update", query: [("version", "\(version)")], rawJSON: body)
            if update.status == 200 { return }
            // Updated by someone else meanwhile: read the new version and try again.
            guard update.message.contains("out of sequence") else {
                throw failure(update, "scaling service \(id) to \(replicas)")
            }
        }
        throw WhagoError(.conflict, "service \(id) kept changing while whago scaled it; retry")
    }

    /// Waits until no container of the service is left on this daemon's node (a stopped worker
    /// has let go of its port; the volume can go).
    /// - Parameter stopped: also wait for stopped containers to go (they hold the volume).
    private func waitForNoContainer(of service: String, stopped: Bool = false, within limit: Duration, doing what: String) async throws {
        let deadline = ContinuousClock.now + limit
        while true {
            let reply = try await client.send(.get, "/containers/json",
                                              query: [("all", stopped ? "true" : "false"),
                                                      ("filters", DockerClient.filters(["label": ["com.docker.swarm.service.id=\(service)"]]))])
            guard reply.status == 200 else { throw failure(reply, what) }
            if (try? JSONSerialization.jsonObject(with: Data(reply.body)) as? [Any])?.isEmpty ?? false { return }
            guard ContinuousClock.now < deadline else {
                throw WhagoError(.timedOut, "\(what): its container was still running after \(limit)")
            }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    func failure(_ reply: DockerClient.Reply, _ what: String) -> WhagoError {
        reply.failure(what, unavailableHint: ("swarm", "run `docker swarm init`, or use a manager's socket"))
    }

    /// Swarm's service names: a DNS name component (`[a-zA-Z0-9_-]`, at most 63, starting and
    /// ending with a letter or digit).
    static func isValidName(_ name: String) -> Bool {
        func alphanumeric(_ scalar: Unicode.Scalar) -> Bool { ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || ("0"..."9").contains(scalar) }
        guard (1...63).contains(name.count), let first = name.unicodeScalars.first, let last = name.unicodeScalars.last,
              alphanumeric(first), alphanumeric(last) else { return false }
        return name.unicodeScalars.allSatisfy { alphanumeric($0) || $0 == "-" || $0 == "_" }
    }

}

