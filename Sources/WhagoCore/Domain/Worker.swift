public import Foundation

/// One container (or process) running WAHA. Hosts up to `sessionsPerWorker` chips of one tenant
/// and holds one port lease.
public struct Worker: Sendable, Hashable, Codable, Identifiable {
    public var id: WorkerID
    /// The tenant whose chips the worker hosts; workers are not shared between tenants.
    public var tenant: TenantID
    /// The runtime's name for the worker (container name), unique per instance: `whago-<worker id>`.
    public var name: String
    /// The host the worker's port is leased on: the runtime's host, or the id of the node it
    /// was placed on when the runtime places workers on several (``ContainerRuntime/nodes()``).
    public var host: String
    /// Where the worker is reached, when the runtime places workers on several nodes: its node's
    /// address (it changes when the worker moves); nil: at ``host``.
    public var address: String?
    /// The leased host port the worker's API is reached on.
    public var port: Int
    /// The runtime's own id (container id, or pid for child processes) once launched.
    public var runtimeID: String?
    /// The key whago uses for the worker's API. Known only to whago.
    public var apiKey: Secret
    /// The HMAC key the worker signs its webhooks with.
    public var webhookSecret: Secret
    public var createdAt: Date
    /// When the health monitor last found it healthy.
    public var lastHealthyAt: Date?
    /// How many times whago restarted or re-created it.
    public var restarts: Int
    /// Since when it hosts no chip (the reaper removes it after a grace period); nil while it hosts some.
    public var idleSince: Date?
    /// Bumped by the store on every write (see ``Tenant/version``).
    public var version: Int

    public init(
        id: WorkerID, tenant: TenantID, name: String, host: String, port: Int, runtimeID: String? = nil,
        apiKey: Secret, webhookSecret: Secret, createdAt: Date = Date(), version: Int = 1
    ) {
        self.id = id
        self.tenant = tenant
        self.name = name
        self.host = host
        self.port = port
        self.runtimeID = runtimeID
        self.apiKey = apiKey
        self.webhookSecret = webhookSecret
        self.createdAt = createdAt
        self.restarts = 0
        self.version = version
    }

    enum CodingKeys: String, CodingKey {
        case id, tenant, name, host, address, port, runtimeID, apiKey, webhookSecret, createdAt, lastHealthyAt, restarts, idleSince, version
    }

    /// Records written before versions (or addresses) existed read as version 1 (at their host).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(WorkerID.self, forKey: .id)
        tenant = try container.decode(TenantID.self, forKey: .tenant)
        name = try container.decode(String.self, forKey: .name)
        host = try container.decode(String.self, forKey: .host)
        address = try container.decodeIfPresent(String.self, forKey: .address)
        port = try container.decode(Int.self, forKey: .port)
        runtimeID = try container.decodeIfPresent(String.self, forKey: .runtimeID)
        apiKey = try container.decode(Secret.self, forKey: .apiKey)
        webhookSecret = try container.decode(Secret.self, forKey: .webhookSecret)
        createdAt = try container.decode(Date.self, forKey: .createdAt)
        lastHealthyAt = try container.decodeIfPresent(Date.self, forKey: .lastHealthyAt)
        restarts = try container.decodeIfPresent(Int.self, forKey: .restarts) ?? 0
        idleSince = try container.decodeIfPresent(Date.self, forKey: .idleSince)
        version = try container.decodeIfPresent(Int.self, forKey: .version) ?? 1
    }
}

/// A host port from the configured range, held by exactly one worker.
public struct PortLease: Sendable, Hashable, Codable {
    public var host: String
    public var port: Int
    public var worker: WorkerID
    public var leasedAt: Date

    public init(host: String, port: Int, worker: WorkerID, leasedAt: Date = Date()) {
        self.host = host
        self.port = port
        self.worker = worker
        self.leasedAt = leasedAt
    }
}
