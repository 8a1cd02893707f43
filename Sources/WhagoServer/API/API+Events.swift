import Foundation
import HTTPTypes
import OpenAPIRuntime
import Orchestrator
import WhagoCore

extension APIHandler {
    func listEvents(_ input: Operations.ListEvents.Input) async throws -> Operations.ListEvents.Output {
        let tenant = try Principal.tenant()
        let limit = try Self.pageSize(input.query.limit)
        let wantsStream = input.headers.accept.contains { $0.contentType == .textEventStream }
        // A reconnecting EventSource keeps its URL and adds Last-Event-ID: that one wins.
        let cursor = try await self.cursor(wantsStream ? input.headers.lastEventID ?? input.query.after : input.query.after)
        if wantsStream {
            guard case .tenant(_, let key) = Principal.current else { throw ErrorResponse("unauthorized", "an event stream needs a tenant's API key") }
            switch streams.take(key) {
            case .success(let slot):
                return .ok(.init(body: .textEventStream(events.stream(of: tenant, after: cursor, slot: slot))))
            case .failure(.key):
                throw ErrorResponse("too_many_streams",
                                    "this API key has \(streams.perKey) event streams open already (limits.http.eventStreamsPerKey); close one first",
                                    retryAfter: 5)
            case .failure(.total):
                throw ErrorResponse("too_many_streams",
                                    "whago serves as many event streams as it may (limits.http.eventStreams); poll GET /api/v1/events or try again later",
                                    retryAfter: 5)
            }
        }
        let entries = try await events.page(of: tenant, after: cursor, limit: limit)
        return .ok(.init(body: .json(.init(events: entries.map { Components.Schemas.Event($0, cursors: events.cursors) },
                                           next: events.cursors.token(entries.last?.sequence ?? cursor)))))
    }

    func listDeadLetters(_ input: Operations.ListDeadLetters.Input) async throws -> Operations.ListDeadLetters.Output {
        let entries = try await orchestrator.events.deadLetters(of: try Principal.tenantOrAll(), limit: try Self.pageSize(input.query.limit))
        return .ok(.init(body: .json(.init(deadLetters: entries.map {
            .init(event: .init($0, cursors: events.cursors), attempts: $0.attempts, lastError: $0.lastError)
        }))))
    }

    func retryDeadLetter(_ input: Operations.RetryDeadLetter.Input) async throws -> Operations.RetryDeadLetter.Output {
        try await orchestrator.events.retryDeadLetter(EventID(input.path.eventId), of: try Principal.tenantOrAll())
        return .accepted(.init())
    }

    /// A cursor from `?after=` or `Last-Event-ID`: a log sequence, 0 for the oldest kept,
    /// `latest` for where the log ends now.
    func cursor(_ text: String?) async throws -> Int64 {
        guard let text else { return 0 }
        if text == "latest" { return try await orchestrator.events.latestSequence() }
        guard let value = events.cursors.sequence(text) else {
            throw ErrorResponse("invalid_query", "a cursor is an event's cursor (as in its `cursor`, or the `next` of a page), 0 or latest")
        }
        return value
    }
}
