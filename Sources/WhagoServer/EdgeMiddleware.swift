import Foundation
import HTTPTypes
import Hummingbird
import Logging
import WhagoCore

/// The first and last thing every request meets, generated route or not: its request id
/// (`X-Request-Id`, taken from the client when it is a sane token), the body limit (413), JSON
/// errors for what the router itself refuses (unknown route 404, wrong method 405), the request
/// duration histogram by route template, and one log line.
struct EdgeMiddleware<Context: RequestContext>: RouterMiddleware {
    let metrics: ServerMetrics
    let maxBodySize: Int
    /// The routes served, to tell a wrong method (405) from an unknown path (404).
    let routes: RouteTable
    /// Proxies whose `X-Forwarded-For` names the client.
    let trustedProxies: [NetworkRange]
    let logger: Logger

    static var requestIDHeader: HTTPField.Name { HTTPField.Name("X-Request-Id")! }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let started = ContinuousClock.now
        let id = Self.requestID(request.headers[Self.requestIDHeader])
        var response: Response
        do {
            var request = request
            if let length = request.headers[.contentLength].flatMap(Int.init), length > maxBodySize {
                throw ErrorResponse("payload_too_large", "a request body is at most \(maxBodySize) bytes")
            }
            do {
                _ = try await request.collectBody(upTo: maxBodySize)
            } catch let error as HTTPError where error.status == .contentTooLarge {
                throw ErrorResponse("payload_too_large", "a request body is at most \(maxBodySize) bytes")
            }
            let peer = (context as? any RemoteAddressRequestContext)?.remoteAddress.flatMap { $0.ipAddress ?? $0.pathname }
            let client = Self.client(peer: peer, forwardedFor: request.headers[values: Self.forwardedForHeader], trusted: trustedProxies)
            response = try await RequestID.$current.withValue(id) {
                try await ClientAddress.$current.withValue(client) { try await next(request, context) }
            }
        } catch {
            var logger = logger
            logger[metadataKey: "request"] = "\(id)"
            response = Self.response(for: error, request: request, allowed: routes.methods(of: request.uri.path), logger: logger)
        }
        response.headers[Self.requestIDHeader] = id
        let route = context.endpointPath ?? "unmatched"
        let status = response.status.code
        metrics.request(route: route, method: request.method.rawValue, status: status, duration: ContinuousClock.now - started)
        if status >= 500 {
            logger.warning("\(request.method) \(route) \(status)", metadata: ["request": "\(id)"])
        } else if logger.logLevel <= .debug {
            logger.debug("\(request.method) \(route) \(status)",
                         metadata: ["request": "\(id)", "ms": "\((ContinuousClock.now - started).seconds * 1000)"])
        }
        return response
    }

    static var forwardedForHeader: HTTPField.Name { HTTPField.Name("X-Forwarded-For")! }

    /// The client behind a request: its peer, unless the peer is a trusted proxy; then the nearest
    /// address of `X-Forwarded-For` (read from the right) that is not itself a trusted proxy.
    static func client(peer: String?, forwardedFor: [String], trusted: [NetworkRange]) -> String? {
        func isTrusted(_ text: String) -> Bool {
            guard let address = NetworkAddress(text) else { return false }
            return trusted.contains { address.isIn($0) }
        }
        guard let peer, !trusted.isEmpty, isTrusted(peer) else { return peer }
        let hops = forwardedFor.flatMap { $0.split(separator: ",") }.map { $0.trimmingCharacters(in: .whitespaces) }
        for hop in hops.reversed() where !isTrusted(hop) {
            return NetworkAddress(hop) != nil ? hop : peer
        }
        return hops.first ?? peer
    }

    /// A client's id when it is 1 to 64 of `[A-Za-z0-9._-]`, else a new one.
    static func requestID(_ given: String?) -> String {
        if let given, (1...64).contains(given.utf8.count),
           given.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A) || $0 == 0x2E || $0 == 0x5F || $0 == 0x2D }) {
            return given
        }
        return RequestID.next()
    }

    static func response(for error: any Error, request: Request, allowed: [String], logger: Logger) -> Response {
        let response: ErrorResponse
        if let error = error as? HTTPError {
            response = switch error.status {
            case .notFound where !allowed.isEmpty, .methodNotAllowed:
                ErrorResponse("method_not_allowed",
                              "\(request.method) is not allowed on \(WorkerText.clean(request.uri.path, limit: 200)); allowed: \(allowed.joined(separator: ", "))")
            case .notFound: ErrorResponse("not_found", "no route \(request.method) \(WorkerText.clean(request.uri.path, limit: 200))")
            case .contentTooLarge: ErrorResponse("payload_too_large", "the request body is too large")
            default: ErrorResponse(ErrorResponse.code(of: error.status), error.body ?? error.status.reasonPhrase)
            }
        } else {
            response = ErrorResponse.from(error, logger: logger)
        }
        var answer = response.hummingbirdResponse
        if response.status == .methodNotAllowed { answer.headers[HTTPField.Name("Allow")!] = allowed.joined(separator: ", ") }
        return answer
    }
}

/// The served routes by path template, for 405 answers.
struct RouteTable: Sendable {
    private let templates: [(segments: [Substring], method: String)]

    /// `routes`: `METHOD /path/{param}` lines.
    init(_ routes: [String]) {
        templates = routes.compactMap { line in
            let parts = line.split(separator: " ", maxSplits: 1)
            guard parts.count == 2 else { return nil }
            return (parts[1].split(separator: "/"), String(parts[0]))
        }
    }

    /// The methods served on `path` (empty: no such path).
    func methods(of path: String) -> [String] {
        let segments = path.split(separator: "/")
        return Array(Set(templates.filter { template in
            template.segments.count == segments.count && zip(template.segments, segments).allSatisfy { $0.hasPrefix("{") || $0 == $1 }
        }.map(\.method))).sorted()
    }
}

extension ErrorResponse {
    var hummingbirdResponse: Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json; charset=utf-8"
        if let retryAfter { headers[.retryAfter] = String(max(1, Int(retryAfter.rounded(.up)))) }
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: body)))
    }
}
