import Foundation
import Logging
import WhagoCore

/// Tenants and their API keys, through the store's primitives. Keys are shown once, when made,
/// and stored hashed.
public struct TenantService: Sendable {
    let context: OrchestratorContext

    /// A tenant as created or changed by the admin.
    public struct Settings: Sendable, Hashable {
        public var name: String
        /// Overrides `limits.chipsPerTenant` when set.
        public var chipQuota: Int?
        public var webhookURL: URL?
        public var webhookSecret: Secret?

        public init(name: String, chipQuota: Int? = nil, webhookURL: URL? = nil, webhookSecret: Secret? = nil) {
            self.name = name
            self.chipQuota = chipQuota
            self.webhookURL = webhookURL
            self.webhookSecret = webhookSecret
        }
    }

    /// Creates a tenant with its first API key; the key is returned once and never again.
    public func create(_ settings: Settings) async throws -> (tenant: Tenant, apiKey: String) {
        let name = try Self.validName(settings.name)
        if let quota = settings.chipQuota, quota < 0 { throw WhagoError(.invalidRequest, "chipLimit must be 0 or more") }
        try settings.webhookURL.map(Self.validWebhookURL)
        let now = Date()
        let tenant = Tenant(id: TenantID.make(prefix: "ten", at: now), name: name, webhookURL: settings.webhookURL,
                            webhookSecret: settings.webhookURL == nil ? nil : settings.webhookSecret ?? Secret(Placement.randomKey()),
                            chipQuota: settings.chipQuota, createdAt: now)
        let (key, record) = APIKeyRecord.generate(for: tenant.id, at: now)
        try await context.store.apply(StoreBatch([.createTenant(tenant), .addAPIKey(record)]))
        context.logger.info("tenant created", metadata: ["tenant": "\(tenant.id)", "key": "\(record.prefix)"])
        return (tenant, key)
    }

    public func get(_ id: TenantID) async throws -> Tenant {
        guard let tenant = try await context.store.tenant(id) else { throw WhagoError(.notFound, "tenant \(id) does not exist") }
        return tenant
    }

    public func list(after: TenantID? = nil, limit: Int = 100) async throws -> [Tenant] {
        try await context.store.tenants(after: after, limit: max(1, min(limit, 1000)))
    }

    /// Changes a tenant (compare-and-set on its version: `conflict` when it changed since `tenant` was read).
    public func update(_ tenant: Tenant) async throws -> Tenant {
        _ = try Self.validName(tenant.name)
        try tenant.webhookURL.map(Self.validWebhookURL)
        try await context.store.apply(StoreBatch([.updateTenant(tenant)]))
        return try await get(tenant.id)
    }

    /// Replaces every active key of the tenant with a new one, in one change; returns the new key once.
    public func rotateKey(of id: TenantID) async throws -> String {
        _ = try await get(id)
        let now = Date()
        let (key, record) = APIKeyRecord.generate(for: id, at: now)
        let revocations = try await context.store.apiKeys(of: id).filter { $0.revokedAt == nil }.map { StoreOperation.revokeAPIKey(prefix: $0.prefix, at: now) }
        try await context.store.apply(StoreBatch(revocations + [.addAPIKey(record)]))
        context.logger.info("tenant key rotated", metadata: ["tenant": "\(id)", "key": "\(record.prefix)", "revoked": "\(revocations.count)"])
        return key
    }

    /// Revokes one key by its public prefix.
    public func revokeKey(prefix: String, of id: TenantID) async throws {
        guard let record = try await context.store.apiKey(prefix: prefix), record.tenant == id else {
            throw WhagoError(.notFound, "tenant \(id) has no key \(WorkerText.clean(prefix, limit: 40))")
        }
        try await context.store.apply(StoreBatch([.revokeAPIKey(prefix: prefix, at: Date())]))
    }

    /// The tenant a presented key belongs to, or nil when it is unknown, wrong or revoked.
    public func authenticate(_ presentedKey: String) async throws -> TenantID? {
        guard let prefix = APIKeyRecord.prefix(of: presentedKey), prefix.utf8.count <= 64,
              let record = try await context.store.apiKey(prefix: prefix), record.accepts(presentedKey) else { return nil }
        return record.tenant
    }

    /// Deletes a tenant that has no chips left (`conflict` otherwise), its idle workers and its keys.
    public func delete(_ id: TenantID) async throws {
        guard try await context.store.tenant(id) != nil else { return }
        let chips = try await context.store.chips(of: id)
        guard chips.isEmpty else {
            throw WhagoError(.conflict, "tenant \(id) still has \(chips.count) chips; delete them first")
        }
        for worker in try await context.store.workers(of: id) {
            try await WorkerRemoval(context: context).remove(worker, fence: nil)
        }
        try await context.store.apply(StoreBatch([.deleteTenant(id)]))
        context.logger.info("tenant deleted", metadata: ["tenant": "\(id)"])
    }

    static func validName(_ name: String) throws -> String {
        let trimmed = name.trimmingSpaces()
        guard !trimmed.isEmpty, trimmed.count <= 128, !trimmed.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw WhagoError(.invalidRequest, "a tenant name is 1 to 128 characters without control characters")
        }
        return trimmed
    }

    static func validWebhookURL(_ url: URL) throws {
        guard let scheme = url.scheme?.lowercased(), ["http", "https"].contains(scheme), url.host?.isEmpty == false,
              url.absoluteString.utf8.count <= 2048 else {
            throw WhagoError(.invalidRequest, "webhook.url must be an http or https URL")
        }
    }
}

/// Takes a worker down for good: the runtime's worker stopped and removed first, then its record
/// (which frees its port) — so a crash in between leaves a record the reaper removes again,
/// never a running worker without a record.
struct WorkerRemoval: Sendable {
    let context: OrchestratorContext

    func remove(_ worker: Worker, fence: Fence?) async throws {
        let handle = context.handle(of: worker)
        // A worker in its first second may not have its signal handlers yet: a SIGTERM then is
        // lost and the stop waits the whole grace, which is expected.
        try await context.runtime.stop(handle, grace: .seconds(10))
        try await context.runtime.remove(handle)
        try await context.store.apply(StoreBatch([.removeWorker(worker.id)], fence: fence))
        context.logger.info("worker removed", metadata: ["worker": "\(worker.id)", "tenant": "\(worker.tenant)", "port": "\(worker.port)"])
    }
}
