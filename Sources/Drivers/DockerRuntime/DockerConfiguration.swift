import Foundation
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

    /// `runtime.docker.healthCheck`: the HEALTHCHECK every worker container gets.
    package struct HealthCheck: Decodable, Sendable {
        package var interval: TimeSpan = .seconds(30)
        package var timeout: TimeSpan = .seconds(5)
        package var retries: Int = 3
        package var startPeriod: TimeSpan = .seconds(60)
        /// Run inside the container (exec form); `{port}`, `{path}` and `{address}` are replaced by
        /// the worker's port, health path and address (127.0.0.1 unless its node has another).
        /// `nil`: a shell command trying wget, curl, then node.
        package var command: [String]?

        package enum CodingKeys: String, CodingKey, CaseIterable {
            case interval, timeout, retries, startPeriod, command
        }

        package init() {}

        package init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            interval = try container.decodeIfPresent(TimeSpan.self, forKey: .interval) ?? interval
            timeout = try container.decodeIfPresent(TimeSpan.self, forKey: .timeout) ?? timeout
            retries = try container.decodeIfPresent(PositiveInt.self, forKey: .retries)?.value ?? retries
            startPeriod = try container.decodeIfPresent(TimeSpan.self, forKey: .startPeriod) ?? startPeriod
            command = try container.decodeIfPresent([NonEmptyString].self, forKey: .command)?.map(\.value)
            if command?.isEmpty == true { throw ConfigValueError("'command' must name a program") }
        }
    }

    /// `runtime.docker.security`: workers are untrusted (third-party code talking to WhatsApp), so
    /// they get the least privilege that runs WAHA: every capability dropped, no privilege gain
    /// through setuid binaries, a bounded number of processes.
    package struct Security: Decodable, Sendable {
        /// Capabilities given back after all are dropped (e.g. `[CHOWN, SETUID, SETGID]` for an
        /// image whose entrypoint switches users).
        package var capAdd: [String] = []
        package var noNewPrivileges = true
        package var pidsLimit = 1024
        /// A read-only root filesystem; `/tmp` is then a tmpfs of `tmpSize`.
        package var readOnlyRootfs = false
        package var tmpSize: ByteSize = .mebibytes(256)

        package enum CodingKeys: String, CodingKey, CaseIterable {
            case capAdd, noNewPrivileges, pidsLimit, readOnlyRootfs, tmpSize
        }

        package init() {}

        package init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            capAdd = try container.decodeIfPresent([NonEmptyString].self, forKey: .capAdd)?.map { $0.value.uppercased() } ?? capAdd
            if let bad = capAdd.first(where: { !$0.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") } }) {
                throw ConfigValueError("'capAdd' takes capability names such as CHOWN or NET_BIND_SERVICE, not '\(bad)'")
            }
            noNewPrivileges = try container.decodeIfPresent(Bool.self, forKey: .noNewPrivileges) ?? noNewPrivileges
            pidsLimit = try container.decodeIfPresent(PositiveInt.self, forKey: .pidsLimit)?.value ?? pidsLimit
            readOnlyRootfs = try container.decodeIfPresent(Bool.self, forKey: .readOnlyRootfs) ?? readOnlyRootfs
            tmpSize = try container.decodeIfPresent(ByteSize.self, forKey: .tmpSize) ?? tmpSize
        }
    }

    /// `runtime.docker.tls`: mutual TLS to a daemon on `tcp://` (dockerd `--tlsverify`).
    package struct TLS: Decodable, Sendable {
        /// The CA the daemon's certificate must chain to.
        package var ca: String
        /// whago's client certificate and key, signed by a CA the daemon trusts.
        package var cert: String
        package var key: String

        package enum CodingKeys: String, CodingKey, CaseIterable {
            case ca, cert, key
        }

        package init(ca: String, cert: String, key: String) {
            self.ca = ca
            self.cert = cert
            self.key = key
        }

        package init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            ca = try container.decode(NonEmptyString.self, forKey: .ca).value
            cert = try container.decode(NonEmptyString.self, forKey: .cert).value
            key = try container.decode(NonEmptyString.self, forKey: .key).value
        }
    }

    var socket: String
    var tls: TLS?
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
    var healthCheck: HealthCheck
    var security: Security

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
        healthCheck = HealthCheck()
        security = Security()
    }

    package init(from decoder: any Decoder) throws {
        self.init()
        let container = try decoder.container(keyedBy: CodingKeys.self)
        (socket, tls, plainTCP) = try Self.daemon(in: container, socket: .socket, tls: .tls, plainTCP: .plainTCP, default: socket, section: "runtime.docker")
        network = try container.decodeIfPresent(Network.self, forKey: .network) ?? network
        ports = try container.decodeIfPresent(PortRange.self, forKey: .ports) ?? ports
        memory = try container.decodeIfPresent(ByteSize.self, forKey: .memory) ?? memory
        cpus = try Self.cpus(in: container, forKey: .cpus)
        restart = try container.decodeIfPresent(RestartPolicy.self, forKey: .restart) ?? restart
        stopGrace = try container.decodeIfPresent(TimeSpan.self, forKey: .stopGrace) ?? stopGrace
        removeVolumes = try container.decodeIfPresent(Bool.self, forKey: .removeVolumes) ?? removeVolumes
        pull = try container.decodeIfPresent(Bool.self, forKey: .pull) ?? pull
        initProcess = try container.decodeIfPresent(Bool.self, forKey: .initProcess) ?? initProcess
        healthCheck = try container.decodeIfPresent(HealthCheck.self, forKey: .healthCheck) ?? healthCheck
        security = try container.decodeIfPresent(Security.self, forKey: .security) ?? security
    }

    /// A CPU limit (`cpus: 1.5`): positive, at most 1024; nil when not written.
    package static func cpus<Key: CodingKey>(in container: KeyedDecodingContainer<Key>, forKey key: Key) throws -> Double? {
        guard let cpus = try container.decodeIfPresent(Double.self, forKey: key) else { return nil }
        guard cpus > 0, cpus <= 1024 else { throw ConfigValueError("'cpus' must be a positive number of CPUs, e.g. 1.5") }
        return cpus
    }

    /// The `socket` and `tls` of a section that speaks to a Docker daemon (`runtime.docker`,
    /// `runtime.swarm`): an endpoint Docker's client would accept, and mutual TLS (with readable
    /// files) unless it is a unix socket or on loopback.
    package static func daemon<Key: CodingKey>(in container: KeyedDecodingContainer<Key>, socket socketKey: Key, tls tlsKey: Key, plainTCP plainKey: Key,
                                                default fallback: String, section: String) throws -> (socket: String, tls: TLS?, plainTCP: Bool) {
        var socket = fallback
        if let given = try container.decodeIfPresent(NonEmptyString.self, forKey: socketKey)?.value {
            guard DockerClient.Endpoint(given) != nil else {
                throw ConfigValueError("'socket' must be a unix socket path (/var/run/docker.sock, unix:///path) or tcp://host:port, not '\(given)'")
            }
            socket = given
        }
        let tls = try container.decodeIfPresent(TLS.self, forKey: tlsKey)
        let plainTCP = try container.decodeIfPresent(Bool.self, forKey: plainKey) ?? false
        if let refusal = DockerClient.Endpoint(socket)?.refusal(tls: tls != nil, plainTCP: plainTCP, section: section) {
            throw DecodingError.dataCorruptedError(forKey: container.contains(socketKey) ? socketKey : tlsKey, in: container,
                                                   debugDescription: refusal)
        }
        if let tls {
            for (name, path) in [("ca", tls.ca), ("cert", tls.cert), ("key", tls.key)] where !FileManager.default.isReadableFile(atPath: path) {
                throw DecodingError.dataCorruptedError(forKey: tlsKey, in: container, debugDescription: "tls.\(name): cannot read '\(path)'")
            }
        }
        return (socket, tls, plainTCP)
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
