import WhagoCore
import DockerEngine

extension ContainerCreateBody {
    /// The container for a worker, per `runtime.docker`:
    /// - `bridge`: the worker listens on `containerPort` (also given as `PORT`), published on
    ///   `127.0.0.1:<hostPort>` only, and reaches whago through `host.docker.internal`;
    /// - `host`: the worker shares the host's network and listens on `hostPort` (given as `PORT`).
    /// Either way with `runtime.docker.security`'s least privilege (all capabilities dropped).
    init(_ spec: WorkerSpec, _ configuration: DockerConfiguration) {
        let port: Int
        var hostConfig = HostConfigBody(
            NetworkMode: configuration.network.rawValue,
            Init: configuration.initProcess ? true : nil,
            RestartPolicy: RestartPolicyBody(Name: configuration.restart.rawValue),
            Memory: configuration.memory?.bytes,
            NanoCpus: configuration.cpus.map { Int64(($0 * 1_000_000_000).rounded()) }
        )
        let security = configuration.security
        hostConfig.CapDrop = ["ALL"]
        hostConfig.CapAdd = security.capAdd.isEmpty ? nil : security.capAdd
        hostConfig.SecurityOpt = security.noNewPrivileges ? ["no-new-privileges"] : nil
        hostConfig.PidsLimit = security.pidsLimit
        if security.readOnlyRootfs {
            hostConfig.ReadonlyRootfs = true
            hostConfig.Tmpfs = ["/tmp": "rw,nosuid,nodev,size=\(security.tmpSize.bytes)"]
        }
        var exposed: [String: EmptyObject]?
        switch configuration.network {
        case .bridge:
            port = spec.containerPort
            exposed = ["\(port)/tcp": EmptyObject()]
            hostConfig.PortBindings = ["\(port)/tcp": [PortBinding(HostIp: "127.0.0.1", HostPort: "\(spec.hostPort)")]]
            hostConfig.ExtraHosts = ["host.docker.internal:host-gateway"]
        case .host:
            port = spec.hostPort
        }
        if let volume = spec.volume {
            hostConfig.Mounts = [Mount(Type: "volume", Source: volume.name, Target: volume.mountPath)]
        }
        var environment = spec.environment
        environment["PORT"] = "\(port)"
        self.init(
            Image: spec.image,
            Cmd: spec.command,
            Env: environment.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" },
            Labels: spec.labels,
            ExposedPorts: exposed,
            Healthcheck: Self.healthCheck(spec, port: port, configuration.healthCheck),
            StopTimeout: Int(configuration.stopGrace.duration.components.seconds),
            HostConfig: hostConfig
        )
    }

    /// The configured (or default) probe of the worker's health path; `nil` leaves the image's own
    /// health check when the worker has no health path and none is configured.
    static func healthCheck(_ spec: WorkerSpec, port: Int, _ settings: DockerHealthCheck) -> HealthConfig? {
        settings.test(for: spec, port: port).map {
            HealthConfig(Test: $0, Interval: settings.interval.nanoseconds, Timeout: settings.timeout.nanoseconds,
                         Retries: settings.retries, StartPeriod: settings.startPeriod.nanoseconds)
        }
    }
}
