public import WhagoCore

/// The `docker` runtime: workers as containers, through the Docker Engine API over its socket.
///
/// Registered now so that configurations selecting it are validated; starting whago with it fails
/// clearly until the driver is built.
public enum DockerRuntime {
    /// The registration entry.
    public static let driver = Driver<any ContainerRuntime>(
        kind: .runtime, name: "docker",
        summary: "WAHA workers as Docker containers, through the Docker Engine API socket",
        sampleConfig: DockerConfiguration.sample,
        configuration: DockerConfiguration.self
    ) { _, _ in
        throw WhagoError.driverNotImplemented("docker")
    }
}

/// `runtime.docker`.
struct DockerConfiguration: DriverConfiguration {
    /// How containers reach the network.
    enum Network: String, Decodable, CaseIterable {
        /// Each worker's port is published on `127.0.0.1:<leased port>`.
        case bridge
        /// Workers share the host's network and listen on their leased port directly.
        case host
    }

    /// Docker's restart policies.
    enum RestartPolicy: String, Decodable, CaseIterable {
        case no, always
        case onFailure = "on-failure"
        case unlessStopped = "unless-stopped"
    }

    var socket: String
    var network: Network
    var ports: PortRange
    var memory: ByteSize?
    var cpus: Double?
    var restart: RestartPolicy
    var stopGrace: TimeSpan
    var removeVolumes: Bool
    var pull: Bool

    enum CodingKeys: String, CodingKey, CaseIterable {
        case socket, network, ports, memory, cpus, restart, stopGrace, removeVolumes, pull
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        socket = try container.decodeIfPresent(NonEmptyString.self, forKey: .socket)?.value ?? "/var/run/docker.sock"
        network = try container.decodeIfPresent(Network.self, forKey: .network) ?? .bridge
        ports = try container.decodeIfPresent(PortRange.self, forKey: .ports) ?? PortRange("3100-3199")!
        memory = try container.decodeIfPresent(ByteSize.self, forKey: .memory) ?? .gibibytes(1)
        cpus = try container.decodeIfPresent(Double.self, forKey: .cpus)
        restart = try container.decodeIfPresent(RestartPolicy.self, forKey: .restart) ?? .unlessStopped
        stopGrace = try container.decodeIfPresent(TimeSpan.self, forKey: .stopGrace) ?? .seconds(10)
        removeVolumes = try container.decodeIfPresent(Bool.self, forKey: .removeVolumes) ?? false
        pull = try container.decodeIfPresent(Bool.self, forKey: .pull) ?? false
    }

    static let sample = """
        docker:
          socket: /var/run/docker.sock   # or tcp://host:2375 for a remote daemon
          network: bridge                # bridge (publish 127.0.0.1:<port>) or host
          ports: 3100-3199               # host ports leased to workers, one each
          memory: 1GiB                   # memory limit per worker
          # cpus: 1.5                    # CPU limit per worker (default: none)
          restart: unless-stopped        # no, always, on-failure, unless-stopped
          stopGrace: 10s                 # SIGTERM, then SIGKILL after this
          removeVolumes: false           # remove a worker's session volume with the worker
          pull: false                    # pull missing images from a registry
        """
}
