import Foundation
public import WhagoCore

// Settings shared by the drivers that speak to a Docker daemon (`runtime.docker`, `runtime.swarm`).

/// `runtime.docker.healthCheck` and `runtime.swarm.healthCheck`: the HEALTHCHECK every worker container gets.
package struct DockerHealthCheck: Decodable, Sendable {
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

/// `runtime.docker.security` and `runtime.swarm.security`: workers are untrusted (third-party code talking to WhatsApp), so
/// they get the least privilege that runs WAHA: every capability dropped, no privilege gain
/// through setuid binaries, a bounded number of processes.
package struct DockerSecurity: Decodable, Sendable {
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

/// `runtime.docker.tls` and `runtime.swarm.tls`: mutual TLS to a daemon on `tcp://` (dockerd `--tlsverify`).
package struct DockerTLS: Decodable, Sendable {
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

/// How a section that speaks to a Docker daemon reads its endpoint and limits.
package enum DockerDaemonSettings {
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
                                                default fallback: String, section: String) throws -> (socket: String, tls: DockerTLS?, plainTCP: Bool) {
        var socket = fallback
        if let given = try container.decodeIfPresent(NonEmptyString.self, forKey: socketKey)?.value {
            guard DockerClient.Endpoint(given) != nil else {
                throw ConfigValueError("'socket' must be a unix socket path (/var/run/docker.sock, unix:///path) or tcp://host:port, not '\(given)'")
            }
            socket = given
        }
        let tls = try container.decodeIfPresent(DockerTLS.self, forKey: tlsKey)
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
}
