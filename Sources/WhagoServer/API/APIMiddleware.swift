import Foundation
import HTTPTypes
import Logging
import OpenAPIRuntime
import Orchestrator
import Synchronization
import WhagoCore

/// Around every generated operation: who is calling (admin token or a tenant's API key, else
/// 401), the key's rate limit (429 with `Retry-After`), and every thrown error turned into the
/// API's JSON error. The caller is handed to the handler as ``Principal/current``.
struct APIMiddleware: ServerMiddleware {
    let adminToken: Secret
    /// The token `/metrics` asks for, when set (`server.metricsToken`); the admin token works too.
    let metricsToken: Secret?
    let tenants: TenantService
    let limiter: RateLimiter
    /// Failed authentications per client address.
    let authFailures: FailureLimiter
    let logger: Logger

    /// Who may call an operation.
    enum Access { case open, admin, tenant, adminOrTenant, metrics }

    /// An operation's access as its `x-whago-access` in openapi.yaml declares it. whago does not
    /// start when one is missing (``WhagoServer`` checks ``OpenAPIDocument/undeclaredAccess``);
    /// should one be unknown all the same, only the admin token is let in.
    static func access(_ operationID: String) -> Access {
        switch OpenAPIDocument.access[operationID] {
        case "open": .open
        case "metrics": .metrics
        case "tenant": .tenant
        case "admin-or-tenant": .adminOrTenant
        default: .admin
        }
    }

    func intercept(_ request: HTTPRequest, body: HTTPBody?, metadata: ServerRequestMetadata, operationID: String,
                   next: @Sendable (HTTPRequest, HTTPBody?, ServerRequestMetadata) async throws -> (HTTPResponse, HTTPBody?))
        async throws -> (HTTPResponse, HTTPBody?) {
        do {
            let principal = try await admit(request, for: Self.access(operationID))
            if let problem = QueryRules.document.problem(operationID: operationID, query: request.path?.split(separator: "?", maxSplits: 1).dropFirst().first) {
                throw ErrorResponse("invalid_query", problem)
            }
            return try await Principal.$current.withValue(principal) {
                try await next(request, body, metadata)
            }
        } catch {
            // Metadata only on this path: setting it on every request costs more than the auth.
            var logger = logger
            logger[metadataKey: "request"] = RequestID.current.map { "\($0)" }
            logger[metadataKey: "operation"] = "\(operationID)"
            return ErrorResponse.from(error, logger: logger).openAPIResponse
        }
    }

    /// Who is calling, if `access` lets them in, within their key's rate limit (401, 429 otherwise).
    /// Also the gate of the plain routes that act for a tenant (the WAHA pass-through).
    func admit(_ request: HTTPRequest, for access: Access) async throws -> Principal? {
        let client = ClientAddress.current
        if access != .open, access != .metrics || metricsToken != nil, let client, let wait = authFailures.blocked(client) {
            throw ErrorResponse("auth_failures",
                                "too many failed authentications from this address (at most \(authFailures.perMinute) a minute); try again later",
                                retryAfter: wait.seconds)
        }
        let principal: Principal?
        do {
            principal = try await authenticate(request, for: access)
        } catch let error as ErrorResponse where error.status == .unauthorized {
            if let client { authFailures.fail(client) }
            throw error
        }
        if case .tenant(_, let prefix) = principal, let wait = limiter.acquire(prefix) {
            throw ErrorResponse("rate_limited",
                                "this API key makes more than \(Int(limiter.rate)) requests a second (burst \(Int(limiter.burst)))",
                                retryAfter: wait.seconds)
        }
        return principal
    }

    private func authenticate(_ request: HTTPRequest, for access: Access) async throws -> Principal? {
        if access == .open || (access == .metrics && metricsToken == nil) { return nil }
        guard let presented = Self.credential(in: request) else {
            throw ErrorResponse("unauthorized", access == .metrics
                ? "send the metrics token (server.metricsToken) as Authorization: Bearer <token>"
                : access == .admin
                ? "send the admin token as Authorization: Bearer <token>"
                : "send an API key as Authorization: Bearer <key> or X-Api-Key: <key>")
        }
        switch access {
        case .open:
            return nil
        case .metrics:
            guard metricsToken?.matches(presented) == true || adminToken.matches(presented) else {
                throw ErrorResponse("unauthorized", "wrong metrics token")
            }
            return nil
        case .adminOrTenant where adminToken.matches(presented):
            return .admin
        case .adminOrTenant:
            return try await authenticate(request, for: .tenant)
        case .admin:
            guard adminToken.matches(presented) else {
                throw ErrorResponse("unauthorized", "wrong admin token")
            }
            return .admin
        case .tenant:
            guard let tenant = try await tenants.authenticate(presented), let prefix = APIKeyRecord.prefix(of: presented) else {
                throw ErrorResponse("unauthorized", adminToken.matches(presented)
                    ? "the admin token manages tenants; this operation needs a tenant's API key"
                    : "unknown, wrong or revoked API key")
            }
            return .tenant(tenant, keyPrefix: prefix)
        }
    }

    /// `Authorization: Bearer <credential>` or `X-Api-Key: <credential>`.
    static func credential(in request: HTTPRequest) -> String? {
        if let authorization = request.headerFields[.authorization] {
            let parts = authorization.split(separator: " ", maxSplits: 1)
            if parts.count == 2, parts[0].lowercased() == "bearer" {
                let value = String(parts[1]).trimmingSpaces()
                return value.isEmpty || value.utf8.count > 512 ? nil : value
            }
            return nil
        }
        if let key = request.headerFields[apiKeyHeader] {
            let value = key.trimmingSpaces()
            return value.isEmpty || value.utf8.count > 512 ? nil : value
        }
        return nil
    }

    static let apiKeyHeader = HTTPField.Name("X-Api-Key")!
}

/// Request ids (`X-Request-Id`): the one being handled, for logs, and new ones — this process's
/// random prefix and a counter (unique and cheap: no random bytes per request).
enum RequestID {
    @TaskLocal static var current: String?

    private static let prefix = "req_" + String(UInt64.random(in: 0...UInt64.max), radix: 36)
    private static let counter = Atomic<UInt64>(0)

    static func next() -> String {
        prefix + "_" + String(counter.wrappingAdd(1, ordering: .relaxed).newValue, radix: 36)
    }
}
