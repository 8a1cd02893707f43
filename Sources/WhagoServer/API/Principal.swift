import WhagoCore

/// Who made the request being handled: set by ``AuthMiddleware`` for the operation's duration.
enum Principal: Sendable, Hashable {
    /// The admin token: tenant management.
    case admin
    /// A tenant, by one of its API keys (`keyPrefix`: the key's public part, for rate limiting and logs).
    case tenant(TenantID, keyPrefix: String)

    @TaskLocal static var current: Principal?

    /// The tenant making this request; `unauthorized` when it is not a tenant's key.
    static func tenant() throws -> TenantID {
        guard case .tenant(let id, _) = current else {
            throw WhagoError(.unauthorized, "this operation needs a tenant's API key")
        }
        return id
    }

    /// The tenant making this request, or nil for the admin token (every tenant's).
    static func tenantOrAll() throws -> TenantID? {
        switch current {
        case .admin: return nil
        case .tenant(let id, _): return id
        case nil: throw WhagoError(.unauthorized, "this operation needs a tenant's API key or the admin token")
        }
    }
}
