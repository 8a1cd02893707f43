import Foundation

// The parts of the Docker Engine API's JSON whago writes and reads (API 1.41 to 1.47). Member names
// are Docker's own; unknown members in answers are ignored, as the API asks.

/// `POST /containers/create`'s body: `ContainerConfig` with `HostConfig`.
struct ContainerCreateBody: Encodable, Sendable {
    var Image: String
    var Cmd: [String]?
    var Env: [String]
    var Labels: [String: String]
    var ExposedPorts: [String: EmptyObject]?
    var Healthcheck: HealthConfig?
    var StopTimeout: Int?
    var HostConfig: HostConfigBody

    struct EmptyObject: Encodable, Sendable {}

    /// Durations are nanoseconds.
    struct HealthConfig: Encodable, Sendable {
        var Test: [String]
        var Interval: Int64
        var Timeout: Int64
        var Retries: Int
        var StartPeriod: Int64
    }

    struct HostConfigBody: Encodable, Sendable {
        var NetworkMode: String
        var Init: Bool?
        var PortBindings: [String: [PortBinding]]?
        var ExtraHosts: [String]?
        var RestartPolicy: RestartPolicyBody
        var Memory: Int64?
        var NanoCpus: Int64?
        var Mounts: [Mount]?
        var CapDrop: [String]?
        var CapAdd: [String]?
        var SecurityOpt: [String]?
        var PidsLimit: Int?
        var ReadonlyRootfs: Bool?
        var Tmpfs: [String: String]?
    }

    struct PortBinding: Encodable, Sendable {
        var HostIp: String
        /// A string, as Docker wants it.
        var HostPort: String
    }

    struct RestartPolicyBody: Encodable, Sendable {
        var Name: String
        var MaximumRetryCount: Int?
    }

    struct Mount: Encodable, Sendable {
        var `Type`: String
        var Source: String
        var Target: String
    }
}

/// `201` from create.
struct ContainerCreated: Decodable, Sendable {
    var Id: String
    var Warnings: [String]?
}

/// `GET /containers/{id}/json`, the parts whago reads.
struct ContainerInspect: Decodable, Sendable {
    var Id: String
    var Name: String
    var State: StateBody
    var Config: ConfigBody
    var Mounts: [MountPoint]?

    struct StateBody: Decodable, Sendable {
        var Status: String
        var Running: Bool?
        var ExitCode: Int?
        var StartedAt: String?
        var Health: HealthBody?
    }

    struct HealthBody: Decodable, Sendable {
        var Status: String
    }

    struct ConfigBody: Decodable, Sendable {
        var Labels: [String: String]?
    }

    struct MountPoint: Decodable, Sendable {
        var `Type`: String?
        var Name: String?
    }

    /// The name without Docker's leading `/`.
    var bareName: String { Name.hasPrefix("/") ? String(Name.dropFirst()) : Name }
}

/// One entry of `GET /containers/json`.
struct ContainerSummary: Decodable, Sendable {
    var Id: String
    var Names: [String]?
    var Labels: [String: String]?

    var bareName: String {
        let name = Names?.first ?? Id
        return name.hasPrefix("/") ? String(name.dropFirst()) : name
    }
}

/// One object of the `/events` stream.
struct EventMessage: Decodable, Sendable {
    var `Type`: String?
    var Action: String?
    var Actor: ActorBody?
    var time: Int64?
    var timeNano: Int64?

    struct ActorBody: Decodable, Sendable {
        var ID: String?
        var Attributes: [String: String]?
    }
}

/// One line of a pull's progress; a failed pull says so inside a `200`.
struct PullProgress: Decodable, Sendable {
    var error: String?
    var errorDetail: ErrorDetail?

    struct ErrorDetail: Decodable, Sendable {
        var message: String?
    }
}
