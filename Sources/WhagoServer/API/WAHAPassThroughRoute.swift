import Foundation
import HTTPTypes
import Hummingbird
import Orchestrator
import WhagoCore

/// `/api/v1/chips/{id}/waha/{path…}`: WAHA's whole API for one chip (groups, media, contacts…)
/// without knowing workers. A plain Hummingbird route (the path is any number of segments and the
/// body any type), documented in openapi.yaml as a pass-through all the same.
///
/// A tenant's key, rate-limited like every API call; another tenant's chip is 404. The session
/// provider confines the request to the chip's session (422 `invalid_request` when it cannot);
/// requests that send a message are paced like `POST /chips/{id}/messages`. The worker's answer
/// comes back as it is (status, content type, body), under a sandboxing Content-Security-Policy
/// as it is the worker's text; a worker that cannot be reached is 503.
enum WAHAPassThroughRoute {
    /// As documented; served as `/api/v1/chips/:id/waha/**`.
    static let path = "/api/v1/chips/{chipId}/waha/{path}"
    static let methods: [HTTPRequest.Method] = [.get, .post, .put, .patch, .delete]

    /// - calls: pass-through calls in flight per tenant (`limits.http.passThroughPerTenant`; 429 beyond).
    static func register<Context: RequestContext>(on router: Router<Context>, gate: APIMiddleware, chips: ChipService, maxBodySize: Int, calls: Slots) {
        for method in methods {
            router.on("/api/v1/chips/:chipId/waha/**", method: method) { request, context -> Response in
                guard case .tenant(let tenant, _) = try await gate.admit(request.head, for: APIMiddleware.access(operationID(method))) else {
                    throw ErrorResponse("unauthorized", "the pass-through needs a tenant's API key")
                }
                guard case .success(let call) = calls.take(tenant.rawValue) else {
                    throw ErrorResponse("too_many_calls",
                                        "this tenant has \(calls.perKey) pass-through calls in flight already (limits.http.passThroughPerTenant)",
                                        retryAfter: 1)
                }
                defer { call.release() }
                let chip = ChipID(context.parameters.get("chipId") ?? "")
                var request = request
                let body = try await request.collectBody(upTo: maxBodySize)
                let forwarded = PassThroughRequest(
                    method: request.method.rawValue, path: try segments(of: request.uri.path), query: try query(of: request.uri.query),
                    contentType: request.headers[.contentType], accept: request.headers[.accept], body: Array(buffer: body))
                let answer = try await chips.passThrough(forwarded, to: chip, of: tenant)
                var headers = HTTPFields()
                headers[.contentType] = answer.contentType ?? "application/octet-stream"
                headers[.contentSecurityPolicy] = "default-src 'none'; sandbox"
                headers[.xContentTypeOptions] = "nosniff"
                headers[HTTPField.Name("X-Whago-Pass-Through")!] = "waha"
                return Response(status: .init(code: answer.status), headers: headers,
                                body: ResponseBody(byteBuffer: ByteBuffer(bytes: answer.body)))
            }
        }
    }

    /// The pass-through's operationId for `method`, as documented.
    static func operationID(_ method: HTTPRequest.Method) -> String {
        "wahaPassThrough" + method.rawValue.prefix(1) + method.rawValue.dropFirst().lowercased()
    }

    /// The decoded segments after `/api/v1/chips/{id}/waha/` (empty ones kept, so that the
    /// provider can refuse them).
    static func segments(of path: String) throws -> [String] {
        // "", "api", "v1", "chips", id, "waha", then the WAHA path.
        let parts = path.split(separator: "/", omittingEmptySubsequences: false).dropFirst(6)
        guard !parts.isEmpty else {
            throw ErrorResponse("invalid_request", "name a WAHA path after /waha/, e.g. /waha/api/{session}/groups")
        }
        return try parts.map { raw in
            guard let decoded = raw.removingPercentEncoding else {
                throw ErrorResponse("invalid_request", "the pass-through path is not validly percent-encoded")
            }
            return decoded
        }
    }

    /// The decoded query items (`+` is a space, as in forms).
    static func query(of query: String?) throws -> [PassThroughRequest.QueryItem] {
        guard let query, !query.isEmpty else { return [] }
        return try query.split(separator: "&").map { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ text: Substring) throws -> String {
                guard let value = text.replacingOccurrences(of: "+", with: " ").removingPercentEncoding else {
                    throw ErrorResponse("invalid_query", "the query is not validly percent-encoded")
                }
                return value
            }
            return .init(name: try decode(parts[0]), value: parts.count > 1 ? try decode(parts[1]) : "")
        }
    }
}
