import Foundation
import Hummingbird
import Synchronization

/// `X-Api-Key` as WAHA checks it: every path but the excluded ones and the virtual phone's scan.
struct APIKeyMiddleware<Context: RequestContext>: RouterMiddleware {
    let key: APIKey?
    let excludedPaths: Set<String>

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let path = request.uri.path
        let name = path.split(separator: "/").first.map(String.init) ?? ""
        guard let key, !excludedPaths.contains(name), path != "/_sim/scan" else { return try await next(request, context) }
        // Only the header: a key in a query string ends up in access logs and proxies' histories.
        let presented = request.headers[.init("X-Api-Key")!]
        guard key.accepts(presented) else { return Reply.error(.unauthorized) }
        return try await next(request, context)
    }
}

/// Latency and 5xx answers injected into WAHA's namespace (never into `/_sim`).
final class FaultInjector: Sendable {
    struct Faults: Sendable {
        var latency: Duration = .zero
        var errorRate: Double = 0
    }

    let faults = Mutex(Faults())
}

struct FaultMiddleware<Context: RequestContext>: RouterMiddleware {
    let injector: FaultInjector

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard !request.uri.path.hasPrefix("/_sim") else { return try await next(request, context) }
        let faults = injector.faults.withLock { $0 }
        if faults.latency > .zero { try await Task.sleep(for: faults.latency) }
        if faults.errorRate > 0, Double.random(in: 0..<1) < faults.errorRate { return Reply.error(.injectedFault) }
        return try await next(request, context)
    }
}
