public import Foundation

/// A customer of the SaaS. Owns API keys and up to `limits.chipsPerTenant` chips.
public struct Tenant: Sendable, Hashable, Codable, Identifiable {
    public var id: TenantID
    /// A human label (the SaaS's account name); not unique.
    public var name: String
    /// Where the tenant's events are delivered, or `nil` to keep them for polling only.
    public var webhookURL: URL?
    /// The key the tenant's webhooks are signed with (sealed at rest).
    public var webhookSecret: Secret?
    /// The key before the last rotation, also signing during the overlap so the tenant can switch.
    public var previousWebhookSecret: Secret?
    /// The tenant's chip limit: overrides `limits.chipsPerTenant` when set.
    public var chipLimit: Int?
    public var createdAt: Date
    /// Bumped by the store on every write; an update must carry the version it read (see
    /// ``StoreOperation``), so a stale write is a `conflict`, never a lost update.
    public var version: Int

    public init(id: TenantID, name: String, webhookURL: URL? = nil, webhookSecret: Secret? = nil, previousWebhookSecret: Secret? = nil,
                chipLimit: Int? = nil, createdAt: Date = Date(), version: Int = 1) {
        self.id = id
        self.name = name
        self.webhookURL = webhookURL
        self.webhookSecret = webhookSecret
        self.previousWebhookSecret = previousWebhookSecret
        self.chipLimit = chipLimit
        self.createdAt = createdAt
        self.version = version
    }

    enum CodingKeys: String, CodingKey {
        case id, name, webhookURL, webhookSecret, previousWebhookSecret, createdAt, version
        /// Stored under its first name, so records written before keep their limit.
        case chipLimit = "chipQuota"
    }

    /// Records written before versions existed read as version 1.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(TenantID.self, forKey: .id)
        name = try container.decode(String.self, forKey: .name)
        webhookURL = try container.decodeIfPresent(URL.self, forKey: .webhookURL)
        webhookSecret = try container.decodeIfPresent(Secret.self, forKey: .webhookSecret)
        previousWebhookSecret = try container.decodeIfPresent(Secret.self, forKey: .previousWebhookSecret)
        chipLimit = try container.decodeIfPresent(Int.self, forKey: .chipLimit)
        createdAt = try container.decode(Date.self, forKey: .createdAt)
        version = try container.decodeIfPresent(Int.self, forKey: .version) ?? 1
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
