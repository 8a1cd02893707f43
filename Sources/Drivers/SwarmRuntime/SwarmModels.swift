import Foundation

// What whago sends to and reads from the Docker Engine API's /services, /tasks and /nodes
// (docker-engine-api.md; field names are Docker's).

/// `POST /services/create`: one replicated service of one task per worker.
struct ServiceSpecBody: Encodable, Sendable {
    var Name: String
    var Labels: [String: String]
    var TaskTemplate: TaskTemplateBody
    var Mode: ModeBody
    var EndpointSpec: EndpointSpecBody?

    struct TaskTemplateBody: Encodable, Sendable {
        var ContainerSpec: ContainerSpecBody
        var Resources: ResourcesBody?
        var RestartPolicy: RestartPolicyBody
        var Placement: PlacementBody?
        var Networks: [NetworkAttachment]?
    }

    struct ContainerSpecBody: Encodable, Sendable {
        var Image: String
        var Args: [String]?
        var Env: [String]
        var Labels: [String: String]
        var Mounts: [MountBody]?
        var StopGracePeriod: Int64
        var Healthcheck: HealthConfigBody?
        var Init: Bool
        var CapabilityDrop: [String]
        var CapabilityAdd: [String]?
        var ReadOnly: Bool?
        /// `no-new-privileges` (Engine API 1.44, Docker 25, and later keep it (moby#46386); older daemons drop it).
        var Privileges: PrivilegesBody?
    }

    struct PrivilegesBody: Codable, Sendable {
        var NoNewPrivileges: Bool?
    }

    struct MountBody: Encodable, Sendable {
        var `Type`: String
        var Source: String
        var Target: String
    }

    struct HealthConfigBody: Encodable, Sendable {
        var Test: [String]
        var Interval: Int64
        var Timeout: Int64
        var Retries: Int
        var StartPeriod: Int64
    }

    struct ResourcesBody: Encodable, Sendable {
        var Limits: LimitsBody
    }

    struct LimitsBody: Encodable, Sendable {
        var NanoCPUs: Int64?
        var MemoryBytes: Int64?
        var Pids: Int?
    }

    struct RestartPolicyBody: Encodable, Sendable {
        var Condition: String
        var Delay: Int64
    }

    struct PlacementBody: Encodable, Sendable {
        var Constraints: [String]?
        var Preferences: [Preference]?

        struct Preference: Encodable, Sendable {
            var Spread: SpreadBody
        }

        struct SpreadBody: Encodable, Sendable {
            var SpreadDescriptor: String
        }
    }

    struct NetworkAttachment: Encodable, Sendable {
        var Target: String
    }

    struct ModeBody: Encodable, Sendable {
        var Replicated: ReplicatedBody

        struct ReplicatedBody: Encodable, Sendable {
            var Replicas: Int
        }
    }

    struct EndpointSpecBody: Encodable, Sendable {
        var Ports: [PortBody]
    }

    struct PortBody: Encodable, Sendable {
        var `Protocol`: String
        var TargetPort: Int
        var PublishedPort: Int
        var PublishMode: String
    }
}

/// `POST /services/create`'s answer.
struct ServiceCreated: Decodable, Sendable {
    var ID: String
    var Warnings: [String]?
}

/// `GET /services` and `/services/{id}`: what whago reads of a service.
struct ServiceSummary: Decodable, Sendable {
    var ID: String
    var Version: VersionBody
    var Spec: SpecBody

    struct VersionBody: Decodable, Sendable {
        var Index: Int
    }

    struct SpecBody: Decodable, Sendable {
        var Name: String
        var Labels: [String: String]?
        var Mode: ModeBody?
        var TaskTemplate: TaskTemplateBody?
    }

    struct TaskTemplateBody: Decodable, Sendable {
        var ContainerSpec: ContainerSpecBody?
    }

    struct ContainerSpecBody: Decodable, Sendable {
        var Mounts: [MountBody]?
        var Privileges: ServiceSpecBody.PrivilegesBody?
        var CapabilityDrop: [String]?
    }

    struct MountBody: Decodable, Sendable {
        var `Type`: String?
        var Source: String?
    }

    /// The named volumes its tasks mount.
    var volumes: [String] {
        (Spec.TaskTemplate?.ContainerSpec?.Mounts ?? []).filter { $0.Type == "volume" }.compactMap(\.Source)
    }

    struct ModeBody: Decodable, Sendable {
        var Replicated: ReplicatedBody?
    }

    struct ReplicatedBody: Decodable, Sendable {
        var Replicas: Int?
    }

    /// The replicas asked for (0: stopped).
    var replicas: Int { Spec.Mode?.Replicated?.Replicas ?? 0 }
}

/// `GET /tasks`: one attempt at running a service's replica.
struct TaskSummary: Decodable, Sendable {
    var ID: String
    var ServiceID: String?
    var NodeID: String?
    var DesiredState: String?
    var CreatedAt: String?
    var Version: ServiceSummary.VersionBody?
    var Status: StatusBody

    struct StatusBody: Decodable, Sendable {
        var State: String
        var Timestamp: String?
        var Err: String?
        var ContainerStatus: ContainerStatusBody?
    }

    struct ContainerStatusBody: Decodable, Sendable {
        var ContainerID: String?
        var ExitCode: Int?
    }
}

/// `GET /nodes/{id}`: where a node is reached.
struct NodeSummary: Decodable, Sendable {
    var ID: String
    var Spec: SpecBody?
    var Description: DescriptionBody?
    var Status: StatusBody?

    struct SpecBody: Decodable, Sendable {
        var Labels: [String: String]?
        var Role: String?
        /// `active`, `pause` or `drain`.
        var Availability: String?
    }

    struct DescriptionBody: Decodable, Sendable {
        var Hostname: String?
        var Platform: PlatformBody?
        var Engine: EngineBody?
    }

    struct PlatformBody: Decodable, Sendable {
        var Architecture: String?
        var OS: String?
    }

    struct EngineBody: Decodable, Sendable {
        var Labels: [String: String]?
    }

    struct StatusBody: Decodable, Sendable {
        /// `unknown`, `down`, `ready` or `disconnected`.
        var State: String?
        var Addr: String?
    }

    /// Up and taking new tasks.
    var takesWorkers: Bool { Status?.State == "ready" && Spec?.Availability == "active" }

    /// A node attribute as Swarm's constraints name it (`node.id`, `node.hostname`, `node.role`,
    /// `node.platform.os`, `node.platform.arch`, `node.labels.<name>`, `engine.labels.<name>`);
    /// "" when the node has no such value.
    func attribute(_ key: String) -> String {
        switch key {
        case "node.id": return ID
        case "node.hostname": return Description?.Hostname ?? ""
        case "node.role": return Spec?.Role ?? ""
        case "node.platform.os": return Description?.Platform?.OS ?? ""
        case "node.platform.arch": return Description?.Platform?.Architecture ?? ""
        default:
            if key.hasPrefix("node.labels.") { return Spec?.Labels?[String(key.dropFirst("node.labels.".count))] ?? "" }
            if key.hasPrefix("engine.labels.") { return Description?.Engine?.Labels?[String(key.dropFirst("engine.labels.".count))] ?? "" }
            return ""
        }
    }
}

/// `GET /info`: whether the daemon manages a swarm.
struct InfoBody: Decodable, Sendable {
    var Swarm: SwarmBody?

    struct SwarmBody: Decodable, Sendable {
        var LocalNodeState: String?
        var ControlAvailable: Bool?
        var Nodes: Int?
    }
}
