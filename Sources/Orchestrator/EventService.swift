import Foundation
import WhagoCore

/// The event log's dead letters, as tenants and the admin handle them.
public struct EventService: Sendable {
    let context: OrchestratorContext

    /// Dead-lettered events, oldest first: a tenant's, or everyone's when `tenant` is nil.
    public func deadLetters(of tenant: TenantID?, limit: Int) async throws -> [OutboxEntry] {
        try await context.store.deadLetters(of: tenant, limit: limit)
    }

    /// A dead-lettered event back to pending, due now, its attempts reset: only the tenant's own
    /// (`not_found` for another's), or any when `tenant` is nil (the admin).
    public func retryDeadLetter(_ id: EventID, of tenant: TenantID?) async throws {
        do {
            try await context.store.apply(.retryDeadLetter(id, at: Date(), tenant: tenant))
        } catch let error as WhagoError where error.code == .notFound {
            throw WhagoError(.notFound, "no dead letter \(WorkerText.clean(id.rawValue, limit: 64))")
        }
    }
}
