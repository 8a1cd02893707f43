import Foundation
import HTTPTypes
import Logging
import OpenAPIRuntime
import Orchestrator
import WhagoCore

/// The generated `APIProtocol`: each handler maps the request to an orchestrator call and its
/// answer back (the store is read only for the metrics' gauges). One file per group of
/// operations: tenants and workers, chips, messages, events, operations.
///
/// Handlers throw; ``APIMiddleware`` turns what they throw into the API's JSON errors.
struct APIHandler: APIProtocol {
    let orchestrator: Orchestrator
    let store: any Store
    let metrics: ServerMetrics
    let events: EventFeed
    /// The last `/readyz` checks, for a second.
    let readiness = Recent<[String: String]>(lifetime: .seconds(1))
    /// Open event streams, per API key and in all (`limits.http.eventStreamsPerKey`, `eventStreams`).
    let streams: Slots
    let logger: Logger

    /// A page size from `?limit=` (1 to 500, 100 by default).
    static func pageSize(_ limit: Int?) throws -> Int {
        guard let limit else { return 100 }
        guard (1...500).contains(limit) else { throw ErrorResponse("invalid_query", "query parameter 'limit' must be an integer from 1 to 500 (got '\(limit)')") }
        return limit
    }
}
