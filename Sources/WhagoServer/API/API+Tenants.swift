import Foundation
import OpenAPIRuntime
import Orchestrator
import WhagoCore

extension APIHandler {
    func createTenant(_ input: Operations.CreateTenant.Input) async throws -> Operations.CreateTenant.Output {
        guard case .json(let request) = input.body else { throw WhagoError(.invalidRequest, "expected a JSON body") }
        let webhook = try request.webhook.map(Self.webhook)
        let (tenant, apiKey) = try await orchestrator.tenants.create(TenantService.Settings(
            name: request.name, chipLimit: request.chipLimit, webhookURL: webhook?.url, webhookSecret: webhook?.secret))
        // A secret whago made for the webhook is shown this once.
        let generated = webhook != nil && webhook?.secret == nil ? tenant.webhookSecret?.revealed : nil
        return .created(.init(body: .json(.init(tenant: .init(tenant), apiKey: apiKey, webhookSecret: generated))))
    }

    func listTenants(_ input: Operations.ListTenants.Input) async throws -> Operations.ListTenants.Output {
        let limit = try Self.pageSize(input.query.limit)
        let page = try await orchestrator.tenants.list(after: input.query.after.map(TenantID.init), limit: limit)
        return .ok(.init(body: .json(.init(tenants: page.map(Components.Schemas.Tenant.init),
                                           next: page.count == limit ? page.last?.id.rawValue : nil))))
    }

    func getTenant(_ input: Operations.GetTenant.Input) async throws -> Operations.GetTenant.Output {
        .ok(.init(body: .json(.init(try await orchestrator.tenants.get(TenantID(input.path.tenantId))))))
    }

    func updateTenant(_ input: Operations.UpdateTenant.Input) async throws -> Operations.UpdateTenant.Output {
        guard case .json(let request) = input.body else { throw WhagoError(.invalidRequest, "expected a JSON body") }
        var change = TenantService.Change(version: request.version, name: request.name, chipLimit: request.chipLimit)
        if request.removeWebhook == true {
            if request.webhook != nil { throw WhagoError(.invalidRequest, "give either webhook or removeWebhook, not both") }
            change.webhook = .remove
        } else if let webhook = try request.webhook.map(Self.webhook) {
            change.webhook = .set(url: webhook.url, secret: webhook.secret)
        }
        let (updated, generated) = try await orchestrator.tenants.update(TenantID(input.path.tenantId), change)
        return .ok(.init(body: .json(.init(tenant: .init(updated), webhookSecret: generated?.revealed))))
    }

    func deleteTenant(_ input: Operations.DeleteTenant.Input) async throws -> Operations.DeleteTenant.Output {
        try await orchestrator.tenants.delete(TenantID(input.path.tenantId))
        return .noContent(.init())
    }

    func rotateTenantKey(_ input: Operations.RotateTenantKey.Input) async throws -> Operations.RotateTenantKey.Output {
        let key = try await orchestrator.tenants.rotateKey(of: TenantID(input.path.tenantId))
        return .ok(.init(body: .json(.init(apiKey: key))))
    }

    func listWorkers(_ input: Operations.ListWorkers.Input) async throws -> Operations.ListWorkers.Output {
        let workers = try await orchestrator.workers.list().map { summary in
            Components.Schemas.Worker(
                id: summary.worker.id.rawValue, tenant: summary.worker.tenant.rawValue, port: summary.worker.port,
                status: summary.worker.idleSince == nil ? .active : .idle, health: .init(rawValue: summary.health.rawValue) ?? .unknown,
                chips: summary.chips, restarts: summary.worker.restarts, lastHealthyAt: summary.worker.lastHealthyAt)
        }
        return .ok(.init(body: .json(.init(workers: workers))))
    }

    // MARK: Parsing

    /// A webhook as given, parsed by the rules the tenant service holds it to.
    static func webhook(_ webhook: Components.Schemas.Webhook) throws -> (url: URL, secret: Secret?) {
        (try Validation.webhookURL(webhook.url), try webhook.secret.map(Validation.webhookSecret))
    }
}
