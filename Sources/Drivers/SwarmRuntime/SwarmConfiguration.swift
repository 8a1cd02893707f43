import DockerEngine
import Foundation
import WhagoCore

/// `runtime.swarm`: workers as Docker Swarm services, one replica each.
struct SwarmConfiguration: DriverConfiguration {
    /// Swarm's restart conditions.
    enum RestartCondition: String, Decodable, CaseIterable, Sendable {
        case any
        case onFailure = "on-failure"
        case none
    }

    /// A swarm manager's Docker API.
    var socket: String
    var tls: DockerTLS?
    /// A plain-TCP daemon on loopback accepted.
    var plainTCP = false
    /// `host`: workers share their node's network and listen on their leased port; any other
    /// name: the network workers join (an overlay), with the leased port published in host mode
    /// on the node the task runs on.
    var network: String
    /// The worker ports of each node (a port is leased per node: the lease's host is the node).
    var ports: PortRange
    /// Where whago reaches the workers of a node that advertises no usable address (0.0.0.0)
    /// and has no `whago.address` label.
    var host: String
    /// An environment variable through which a worker learns its node's address (e.g.
    /// `WHATSAPP_API_HOSTNAME` for WAHA's media URLs); nil: none.
    var nodeAddressVariable: String?
    var memory: ByteSize?
    var cpus: Double?
    var restart: RestartCondition
    var restartDelay: TimeSpan
    var stopGrace: TimeSpan
    var removeVolumes: Bool
    /// Placement constraints, in Swarm's syntax (`node.labels.whago == true`, `node.role == worker`):
    /// whago places workers only on the nodes that meet them all.
    var constraints: [SwarmConstraint]
    /// Spread preferences: tasks spread over the values of these node labels (`node.labels.zone`).
    var spread: [String]
    var healthCheck: DockerHealthCheck
    var security: DockerSecurity
    /// How often tasks are read for the event stream.
    var pollInterval: TimeSpan

    enum CodingKeys: String, CodingKey, CaseIterable {
        case socket, tls, plainTCP, network, ports, host, nodeAddressVariable, memory, cpus, restart, restartDelay, stopGrace, removeVolumes, constraints, spread
        case healthCheck, security, pollInterval
    }

    init() {
        socket = "/var/run/docker.sock"
        network = "host"
        ports = PortRange("3100-3199")!
        host = "127.0.0.1"
        memory = .gibibytes(1)
        restart = .any
        restartDelay = .seconds(5)
        stopGrace = .seconds(10)
        removeVolumes = false
        constraints = []
        spread = []
        healthCheck = DockerHealthCheck()
        security = DockerSecurity()
        pollInterval = .seconds(2)
    }

    init(from decoder: any Decoder) throws {
        self.init()
        let container = try decoder.container(keyedBy: CodingKeys.self)
        (socket, tls, plainTCP) = try DockerDaemonSettings.daemon(in: container, socket: .socket, tls: .tls, plainTCP: .plainTCP, default: socket,
                                                                 section: "runtime.swarm")
        network = try container.decodeIfPresent(NonEmptyString.self, forKey: .network)?.value ?? network
        ports = try container.decodeIfPresent(PortRange.self, forKey: .ports) ?? ports
        host = try container.decodeIfPresent(NonEmptyString.self, forKey: .host)?.value ?? host
        nodeAddressVariable = try container.decodeIfPresent(NonEmptyString.self, forKey: .nodeAddressVariable)?.value
        if let name = nodeAddressVariable, name.contains("=") || name.contains(where: \.isWhitespace) {
            throw DecodingError.dataCorruptedError(forKey: .nodeAddressVariable, in: container,
                                                   debugDescription: "'\(name)' is not an environment variable name")
        }
        memory = try container.decodeIfPresent(ByteSize.self, forKey: .memory) ?? memory
        cpus = try DockerDaemonSettings.cpus(in: container, forKey: .cpus)
        restart = try container.decodeIfPresent(RestartCondition.self, forKey: .restart) ?? restart
        restartDelay = try container.decodeIfPresent(TimeSpan.self, forKey: .restartDelay) ?? restartDelay
        stopGrace = try container.decodeIfPresent(TimeSpan.self, forKey: .stopGrace) ?? stopGrace
        removeVolumes = try container.decodeIfPresent(Bool.self, forKey: .removeVolumes) ?? removeVolumes
        let texts = try container.decodeIfPresent([NonEmptyString].self, forKey: .constraints)?.map(\.value) ?? []
        constraints = try texts.map { text in
            guard let constraint = SwarmConstraint(text) else {
                throw DecodingError.dataCorruptedError(forKey: .constraints, in: container, debugDescription: "'\(text)' is not a Swarm constraint "
                    + "such as node.labels.whago == true (attributes: \((SwarmConstraint.keys + SwarmConstraint.prefixes.map { $0 + "<name>" }).joined(separator: ", ")); "
                    + "operators == and !=)")
            }
            return constraint
        }
        spread = try container.decodeIfPresent([NonEmptyString].self, forKey: .spread)?.map(\.value) ?? []
        if let bad = spread.first(where: { !($0.hasPrefix("node.labels.") || $0.hasPrefix("engine.labels.")) || !SwarmConstraint.isAttribute($0) }) {
            throw DecodingError.dataCorruptedError(forKey: .spread, in: container,
                                                   debugDescription: "'\(bad)' is not a node label to spread over, such as node.labels.zone")
        }
        healthCheck = try container.decodeIfPresent(DockerHealthCheck.self, forKey: .healthCheck) ?? healthCheck
        security = try container.decodeIfPresent(DockerSecurity.self, forKey: .security) ?? security
        pollInterval = try container.decodeIfPresent(TimeSpan.self, forKey: .pollInterval) ?? pollInterval
    }

    static let sample = """
        swarm:
          socket: /var/run/docker.sock   # a swarm manager's Docker API (tcp://host:2376 needs tls)
          network: host                  # host, or an overlay network with the port published in host mode
          ports: 3100-3199               # each node's worker ports, one leased per worker on its node
          host: 127.0.0.1                # where whago reaches workers of a node advertising 0.0.0.0
          # nodeAddressVariable: WHATSAPP_API_HOSTNAME   # tells each worker its node's address
          memory: 1GiB                   # memory limit per worker
          # cpus: 1.5
          restart: any                   # any, on-failure or none: Swarm restarts the task (whago moves it off a lost node)
          restartDelay: 5s
          stopGrace: 10s
          removeVolumes: false           # remove a worker's volume (on the manager's node) with it
          constraints: []                # nodes whago may place workers on, e.g. [node.labels.whago == true, node.role == worker]
          spread: []                     # e.g. [node.labels.zone]: workers spread over zones first
          pollInterval: 2s               # how often tasks are read for events
        """
}
