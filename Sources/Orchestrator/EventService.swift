import Foundation
public import WhagoCore

/// The event log as tenants and the admin read it: pages and the log's end (for polling and
/// event streams), dead letters and their retries.
public struct EventService: Sendable {
    let store: any Store

    /// The event log of `store`.
    public init(store: any Store) { self.store = store }

    /// The tenant's events after `sequence`, oldest first, delivered or not.
    public func events(of tenant: TenantID, after sequence: Int64, limit: Int) async throws -> [OutboxEntry] {
        try await store.events(of: tenant, after: sequence, limit: limit)
    }

    /// The sequence of the newest event in the log (0 when it has none): "from now on".
    public func latestSequence() async throws -> Int64 {
        try await store.latestEventSequence()
    }

    /// Dead-lettered events, oldest first: a tenant's, or everyone's when `tenant` is nil.
    public func deadLetters(of tenant: TenantID?, limit: Int) async throws -> [OutboxEntry] {
        try await store.deadLetters(of: tenant, limit: limit)
    }

    /// A dead-lettered event back to pending, due now, its attempts reset: only the tenant's own
    /// (`not_found` for another's), or any when `tenant` is nil (the admin).
    public func retryDeadLetter(_ id: EventID, of tenant: TenantID?) async throws {
        do {
            try await store.apply(.retryDeadLetter(id, at: Date(), tenant: tenant))
        } catch let error as WhagoError where error.code == .notFound {
            throw WhagoError(.notFound, "no dead letter \(WorkerText.clean(id.rawValue, limit: 64))")
        }
    }
}
