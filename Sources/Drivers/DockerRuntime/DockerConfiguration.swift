import Foundation
import DockerEngine
import WhagoCore

/// `runtime.docker`.
package struct DockerConfiguration: DriverConfiguration {
    /// How containers reach the network.
    enum Network: String, Decodable, CaseIterable, Sendable {
        /// Each worker's port is published on `127.0.0.1:<leased port>`.
        case bridge
        /// Workers share the host's network and listen on their leased port directly.
        case host
    }

    /// Docker's restart policies.
    enum RestartPolicy: String, Decodable, CaseIterable, Sendable {
        case no, always
        case onFailure = "on-failure"
        case unlessStopped = "unless-stopped"
    }

    var socket: String
    var tls: DockerTLS?
    /// A plain-TCP daemon on loopback accepted.
    var plainTCP = false
    var network: Network
    var ports: PortRange
    var memory: ByteSize?
    var cpus: Double?
    var restart: RestartPolicy
    var stopGrace: TimeSpan
    var removeVolumes: Bool
    var pull: Bool
    /// Run Docker's init (tini) as PID 1: signals reach the worker, zombies are reaped.
    var initProcess: Bool
    var healthCheck: DockerHealthCheck
    var security: DockerSecurity

    package enum CodingKeys: String, CodingKey, CaseIterable {
        case socket, tls, plainTCP, network, ports, memory, cpus, restart, stopGrace, removeVolumes, pull, initProcess, healthCheck, security
    }

    package init() {
        socket = "/var/run/docker.sock"
        network = .bridge
        ports = PortRange("3100-3199")!
        memory = .gibibytes(1)
        restart = .unlessStopped
        stopGrace = .seconds(10)
        removeVolumes = false
        pull = false
        initProcess = true
        healthCheck = DockerHealthCheck()
        security = DockerSecurity()
    }

    package init(from decoder: any Decoder) throws {
        self.init()
        let container = try decoder.container(keyedBy: CodingKeys.self)
        (socket, tls, plainTCP) = try DockerDaemonSettings.daemon(in: container, socket: .socket, tls: .tls, plainTCP: .plainTCP, default: socket, section: "runtime.docker")
        network = try container.decodeIfPresent(Network.self, forKey: .network) ?? network
        ports = try container.decodeIfPresent(PortRange.self, forKey: .ports) ?? ports
        memory = try container.decodeIfPresent(ByteSize.self, forKey: .memory) ?? memory
        cpus = try DockerDaemonSettings.cpus(in: container, forKey: .cpus)
        restart = try container.decodeIfPresent(RestartPolicy.self, forKey: .restart) ?? restart
        stopGrace = try container.decodeIfPresent(TimeSpan.self, forKey: .stopGrace) ?? stopGrace
        removeVolumes = try container.decodeIfPresent(Bool.self, forKey: .removeVolumes) ?? removeVolumes
        pull = try container.decodeIfPresent(Bool.self, forKey: .pull) ?? pull
        initProcess = try container.decodeIfPresent(Bool.self, forKey: .initProcess) ?? initProcess
        healthCheck = try container.decodeIfPresent(DockerHealthCheck.self, forKey: .healthCheck) ?? healthCheck
        security = try container.decodeIfPresent(DockerSecurity.self, forKey: .security) ?? security
    }

    static let sample = """
        docker:
          socket: /var/run/docker.sock   # or tcp://host:2376 for a remote daemon (TLS required unless loopback)
          # tls:                         # mutual TLS to a tcp:// daemon started with --tlsverify
          #   ca: /etc/whago/docker/ca.pem
          #   cert: /etc/whago/docker/cert.pem
          #   key: /etc/whago/docker/key.pem
          network: bridge                # bridge (publish 127.0.0.1:<port>) or host (workers reach every loopback service)
          ports: 3100-3199               # host ports leased to workers, one each
          memory: 1GiB                   # memory limit per worker
          # cpus: 1.5                    # CPU limit per worker (default: none)
          restart: unless-stopped        # no, always, on-failure, unless-stopped
          stopGrace: 10s                 # SIGTERM, then SIGKILL after this
          removeVolumes: false           # remove a worker's session volume with the worker
          pull: false                    # pull missing images from a registry
          initProcess: true              # Docker's init (tini) as PID 1: signals reach the worker at once
          healthCheck:                   # Docker's HEALTHCHECK for workers that have a health path
            interval: 30s
            timeout: 5s
            retries: 3
            startPeriod: 60s
            # command: [/usr/local/bin/probe, "http://127.0.0.1:{port}{path}"]   # default: wget, curl or node
          security:                      # workers are untrusted: least privilege by default
            capAdd: []                   # capabilities given back; all others are dropped
            noNewPrivileges: true        # no privilege gain through setuid binaries
            pidsLimit: 1024              # processes per worker
            readOnlyRootfs: false        # true: read-only root, /tmp a tmpfs of tmpSize
            tmpSize: 256MiB
        """
}
