public import Foundation

/// Runs workers: containers (Docker), or child processes (`local`).
///
/// Modelled on Nomad's task drivers: start, inspect, stop, destroy, recover through labels.
///
/// # Implementation requirements
/// - ``launch(_:)`` is **idempotent by `spec.name`**: launching a name that already runs with the
///   same `whago.*` labels adopts it and returns its handle; a name held by something whose labels
///   differ is a ``WhagoError`` with code `conflict`, never a second worker.
/// - ``inspect(_:)`` returns `nil` for a worker that no longer exists; it throws only when the
///   runtime cannot be asked (`unavailable`).
/// - ``stop(_:grace:)`` and ``remove(_:)`` succeed on a worker that is already stopped or gone.
/// - ``list(labels:)`` returns every worker carrying all the given labels, running or not, so the
///   reconciler can adopt workers after whago restarts. **Workers survive a crash of whago**: the
///   runtime, not whago's memory, is the source of truth about what runs.
/// - ``events()`` reports starts, exits and health changes of labelled workers; it may poll
///   underneath, and it reconnects by itself when the runtime restarts.
/// - Errors are ``WhagoError``s: `unavailable` (runtime unreachable; retry), `not_found` (a missing
///   image, with the image's name and how to load it), `conflict`, `invalid_config`.
///
/// The shared suite `WhagoTesting.RuntimeConformance` checks these rules for every runtime.
public protocol ContainerRuntime: WhagoDriver {
    /// The host ports workers are published on, and the address whago reaches them at.
    var workerPorts: WorkerPorts { get }
    /// Whether workers run on several hosts (nodes), each worker on the one its ``WorkerSpec/node``
    /// names, reached at that node's address.
    var placesWorkersOnSeveralHosts: Bool { get }
    /// The nodes a new worker may be placed on now (up, taking new workers, and meeting the
    /// runtime's placement rules), when ``placesWorkersOnSeveralHosts``. whago chooses one, leases
    /// the worker's port on it and launches the worker there.
    func nodes() async throws -> [RuntimeNode]
    /// Why workers could not reach whago's webhook receiver at `publicURL` while whago listens
    /// on `listen` (e.g. a loopback address seen from a bridge network), or nil when they can.
    func webhookReachability(publicURL: URL, listen: HostPort) -> String?
    /// Checks the runtime is reachable and reports what it is.
    func ping() async throws -> RuntimeInfo
    /// Creates and starts a worker, or adopts the one already named `spec.name`.
    func launch(_ spec: WorkerSpec) async throws -> WorkerHandle
    /// The worker's current state, or `nil` when it does not exist.
    func inspect(_ handle: WorkerHandle) async throws -> WorkerState?
    /// Stops the worker, killing it after `grace`.
    func stop(_ handle: WorkerHandle, grace: Duration) async throws
    /// Removes a stopped worker (and, per configuration, its volume).
    func remove(_ handle: WorkerHandle) async throws
    /// Every worker carrying all of `labels`.
    func list(labels: [String: String]) async throws -> [WorkerHandle]
    /// Life-cycle events of labelled workers.
    func events() -> AsyncThrowingStream<RuntimeEvent, any Error>
}

/// What a runtime says about itself.
public struct RuntimeInfo: Sendable, Hashable {
    /// e.g. `docker`, `local`.
    public var driver: String
    /// e.g. `Docker 28.2.2 (API 1.50)`.
    public var version: String

    public init(driver: String, version: String) {
        self.driver = driver
        self.version = version
    }
}

extension ContainerRuntime {
    /// Workers share whago's network (the default): whatever whago can reach, they can.
    public func webhookReachability(publicURL: URL, listen: HostPort) -> String? { nil }

    /// Whether workers run on several hosts, each reached at its node's address; false (the
    /// default): all at ``WorkerPorts/host``.
    public var placesWorkersOnSeveralHosts: Bool { false }

    /// One node: ``WorkerPorts/host``.
    public func nodes() async throws -> [RuntimeNode] {
        [RuntimeNode(id: workerPorts.host, name: workerPorts.host, address: workerPorts.host)]
    }
}

/// A host a runtime runs workers on (a swarm node). Each node has its own pool of worker ports:
/// a port lease's `host` is the node's ``id``.
public struct RuntimeNode: Sendable, Hashable {
    /// The runtime's stable id for the node (Swarm's node id).
    public var id: String
    /// A name for people (its hostname).
    public var name: String
    /// Where whago reaches the workers on the node.
    public var address: String
    /// The node's values of the runtime's spread attributes, in order (e.g. its zone): whago
    /// places a new worker in the least-loaded group first, as Swarm's spread preferences do.
    public var spread: [String]

    public init(id: String, name: String, address: String, spread: [String] = []) {
        self.id = id
        self.name = name
        self.address = address
        self.spread = spread
    }
}

/// The pool of host ports a runtime publishes workers on (one port per worker, leased in the store).
public struct WorkerPorts: Sendable, Hashable {
    /// The address whago reaches the workers' ports at, and the `host` of their port leases.
    public var host: String
    public var range: PortRange
    /// The configuration key that sets the range, for error messages (e.g. `runtime.local.ports`).
    public var setting: String

    public init(host: String, range: PortRange, setting: String) {
        self.host = host
        self.range = range
        self.setting = setting
    }
}

/// Labels whago puts on every worker.
public enum WorkerLabel {
    /// The whago installation that owns the worker.
    public static let instance = "whago.instance"
    /// The tenant whose chips the worker hosts.
    public static let tenant = "whago.tenant"
    /// The worker's id.
    public static let worker = "whago.worker"
    /// The host port the worker was launched on (the reconciler repairs a worker found on another).
    public static let port = "whago.port"
    /// The node the worker was placed on, when the runtime places workers on several
    /// (the reconciler repairs a worker found on another).
    public static let node = "whago.node"
}

/// Everything a runtime needs to launch one worker.
public struct WorkerSpec: Sendable, Hashable {
    /// Unique name of the worker in the runtime (the idempotency key of ``ContainerRuntime/launch(_:)``).
    public var name: String
    /// The image (Docker) or ignored (`local`).
    public var image: String
    /// The command to run instead of the image's default, if any.
    public var command: [String]?
    public var environment: [String: String]
    public var labels: [String: String]
    /// The leased host port the worker's API must be reachable on.
    public var hostPort: Int
    /// The port the worker listens on inside the container.
    public var containerPort: Int
    /// A named volume and where to mount it (WAHA: `/app/.sessions`).
    public var volume: VolumeMount?
    /// The HTTP path the runtime may probe for health (WAHA: `/ping`).
    public var healthPath: String?
    /// The node the worker must run on (its port is leased there), when the runtime places
    /// workers on several; nil: wherever the runtime runs workers.
    public var node: RuntimeNode?

    public init(
        name: String, image: String, command: [String]? = nil, environment: [String: String] = [:],
        labels: [String: String] = [:], hostPort: Int, containerPort: Int,
        volume: VolumeMount? = nil, healthPath: String? = nil, node: RuntimeNode? = nil
    ) {
        self.name = name
        self.image = image
        self.command = command
        self.environment = environment
        self.labels = labels
        self.hostPort = hostPort
        self.containerPort = containerPort
        self.volume = volume
        self.healthPath = healthPath
        self.node = node
    }
}

/// A named volume mounted into a worker; it outlives the worker so sessions survive re-creation.
public struct VolumeMount: Sendable, Hashable {
    public var name: String
    /// Where the volume appears inside the worker.
    public var mountPath: String

    public init(name: String, mountPath: String) {
        self.name = name
        self.mountPath = mountPath
    }
}

/// A launched worker as the runtime knows it.
public struct WorkerHandle: Sendable, Hashable, Codable {
    /// The runtime's id (container id, or `pid:<n>` for a child process).
    public var runtimeID: String
    public var name: String
    public var labels: [String: String]

    public init(runtimeID: String, name: String, labels: [String: String]) {
        self.runtimeID = runtimeID
        self.name = name
        self.labels = labels
    }
}

/// A worker's state as the runtime reports it.
public struct WorkerState: Sendable, Hashable {
    /// The process's state (Docker's container states).
    public enum Status: String, Sendable, Hashable {
        case created, running, restarting, exited, dead
    }

    /// The runtime's own health check, when the worker has one.
    public enum Health: String, Sendable, Hashable {
        case starting, healthy, unhealthy
    }

    public var status: Status
    /// `nil` when the runtime does not probe health.
    public var health: Health?
    public var exitCode: Int?
    public var startedAt: Date?
    /// The address of the host the worker runs on, when the runtime places workers on several
    /// hosts (swarm: its node's); `nil`: ``WorkerPorts/host``.
    public var address: String?
    /// The node the worker is bound to is lost (down, drained or gone from the cluster): the
    /// worker cannot run again until whago places it on another node.
    public var nodeLost: Bool

    public init(status: Status, health: Health? = nil, exitCode: Int? = nil, startedAt: Date? = nil, address: String? = nil,
                nodeLost: Bool = false) {
        self.status = status
        self.health = health
        self.exitCode = exitCode
        self.startedAt = startedAt
        self.address = address
        self.nodeLost = nodeLost
    }
}

/// Something that happened to a labelled worker.
public struct RuntimeEvent: Sendable, Hashable {
    /// What happened.
    public enum Kind: Sendable, Hashable {
        case started
        case exited(code: Int?)
        case outOfMemory
        case health(WorkerState.Health)
    }

    public var handle: WorkerHandle
    public var kind: Kind
    public var time: Date

    public init(handle: WorkerHandle, kind: Kind, time: Date = Date()) {
        self.handle = handle
        self.kind = kind
        self.time = time
    }
}
