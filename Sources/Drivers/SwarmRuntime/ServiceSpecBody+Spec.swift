import DockerEngine
import WhagoCore

extension ServiceSpecBody {
    /// The service for a worker, per `runtime.swarm`: one replica, on the node the spec names
    /// (told its address through `nodeAddressVariable`); on the `host` network the worker listens
    /// on its leased port (given as `PORT`), on any other network it listens on `containerPort`;
    /// either way the leased port is published in host mode on its node. Least privilege
    /// as the docker runtime gives it (all capabilities dropped, an init, a pid limit).
    init(_ spec: WorkerSpec, _ configuration: SwarmConfiguration) {
        let host = configuration.network == "host"
        let port = host ? spec.hostPort : spec.containerPort
        var environment = spec.environment
        environment["PORT"] = "\(port)"
        if let node = spec.node, let variable = configuration.nodeAddressVariable { environment[variable] = node.address }
        let security = configuration.security
        let container = ContainerSpecBody(
            Image: spec.image,
            Args: spec.command,
            Env: environment.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" },
            // Not `whago.*`: a task's container is the service's, never a docker-runtime worker
            // (a docker runtime of the same installation must not adopt or reap it).
            Labels: ["whago-swarm.worker": spec.name],
            Mounts: spec.volume.map { [MountBody(Type: "volume", Source: $0.name, Target: $0.mountPath)] },
            StopGracePeriod: configuration.stopGrace.nanoseconds,
            // On the host network a worker told its node's address may listen there only.
            Healthcheck: Self.healthCheck(spec, port: port, address: host ? spec.node?.address ?? "127.0.0.1" : "127.0.0.1",
                                          configuration.healthCheck),
            Init: true,
            CapabilityDrop: ["ALL"],
            CapabilityAdd: security.capAdd.isEmpty ? nil : security.capAdd,
            ReadOnly: security.readOnlyRootfs ? true : nil,
            Privileges: security.noNewPrivileges ? PrivilegesBody(NoNewPrivileges: true) : nil)
        // Pinned to the node whago chose (its port is leased there); else wherever Swarm places it.
        let constraints = configuration.constraints + (spec.node.map { [SwarmConstraint.node($0.id)] } ?? [])
        let placement = PlacementBody(
            Constraints: constraints.isEmpty ? nil : constraints.map(\.description),
            Preferences: configuration.spread.isEmpty || spec.node != nil ? nil : configuration.spread.map { .init(Spread: .init(SpreadDescriptor: $0)) })
        self.init(
            Name: spec.name,
            Labels: spec.labels,
            TaskTemplate: TaskTemplateBody(
                ContainerSpec: container,
                Resources: ResourcesBody(Limits: LimitsBody(
                    NanoCPUs: configuration.cpus.map { Int64(($0 * 1_000_000_000).rounded()) },
                    MemoryBytes: configuration.memory.map { Int64($0.bytes) },
                    Pids: security.pidsLimit)),
                RestartPolicy: RestartPolicyBody(Condition: configuration.restart.rawValue, Delay: configuration.restartDelay.nanoseconds),
                Placement: placement.Constraints == nil && placement.Preferences == nil ? nil : placement,
                Networks: [NetworkAttachment(Target: configuration.network)]),
            Mode: ModeBody(Replicated: .init(Replicas: 1)),
            // Published in host mode even on the host network: Swarm then never places two
            // tasks that need one port on the same node.
            EndpointSpec: EndpointSpecBody(Ports: [PortBody(Protocol: "tcp", TargetPort: port, PublishedPort: spec.hostPort, PublishMode: "host")]))
    }

    /// The configured (or default) probe of the worker's health path, as the docker runtime makes it.
    static func healthCheck(_ spec: WorkerSpec, port: Int, address: String, _ settings: DockerHealthCheck) -> HealthConfigBody? {
        settings.test(for: spec, port: port, address: address).map {
            HealthConfigBody(Test: $0, Interval: settings.interval.nanoseconds, Timeout: settings.timeout.nanoseconds,
                             Retries: settings.retries, StartPeriod: settings.startPeriod.nanoseconds)
        }
    }
}
