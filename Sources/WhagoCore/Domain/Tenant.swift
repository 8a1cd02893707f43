import Foundation

/// A customer of the SaaS. Owns API keys and up to `limits.chipsPerTenant` chips.
public struct Tenant: Sendable, Hashable, Codable, Identifiable {
    public var id: TenantID
    /// A human label (the SaaS's account name); not unique.
    public var name: String
    /// Where the tenant's events are delivered, or `nil` to keep them for polling only.
    public var webhookURL: URL?
    /// Overrides `limits.chipsPerTenant` for this tenant when set.
    public var chipQuota: Int?
    public var createdAt: Date

    public init(id: TenantID, name: String, webhookURL: URL? = nil, chipQuota: Int? = nil, createdAt: Date = Date()) {
        self.id = id
        self.name = name
        self.webhookURL = webhookURL
        self.chipQuota = chipQuota
        self.createdAt = createdAt
    }
}

/// A tenant's API key as stored: never the key itself, only a salted hash.
///
/// A key is shown to the tenant once, at creation, as `<prefix>.<secret>`. The non-secret
/// ``prefix`` finds the record; the secret part is compared against ``hash`` in constant time.
public struct APIKeyRecord: Sendable, Hashable, Codable {
    /// The public, unique part of the key, used to look the record up.
    public var prefix: String
    public var tenant: TenantID
    /// Salt and hash of the secret part, e.g. `sha256:<salt hex>:<hash hex>`.
    public var hash: String
    public var createdAt: Date
    /// When set, the key is refused from then on.
    public var revokedAt: Date?

    public init(prefix: String, tenant: TenantID, hash: String, createdAt: Date = Date(), revokedAt: Date? = nil) {
        self.prefix = prefix
        self.tenant = tenant
        self.hash = hash
        self.createdAt = createdAt
        self.revokedAt = revokedAt
    }
}
