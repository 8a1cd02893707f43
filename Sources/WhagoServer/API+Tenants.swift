import Foundation
import OpenAPIRuntime
import Orchestrator
import WhagoCore

extension APIHandler {
    func createTenant(_ input: Operations.CreateTenant.Input) async throws -> Operations.CreateTenant.Output {
        guard case .json(let request) = input.body else { throw WhagoError(.invalidRequest, "expected a JSON body") }
        let webhook = try request.webhook.map(Self.webhook)
        let (tenant, apiKey) = try await orchestrator.tenants.create(TenantService.Settings(
            name: request.name, chipQuota: try request.chipLimit.map(Self.chipLimit), webhookURL: webhook?.url, webhookSecret: webhook?.secret))
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
        var tenant = try await orchestrator.tenants.get(TenantID(input.path.tenantId))
        if let version = request.version, version != tenant.version {
            throw WhagoError(.conflict, "tenant \(tenant.id) is at version \(tenant.version), not \(version); read it again")
        }
        if let name = request.name { tenant.name = name }
        if let limit = request.chipLimit { tenant.chipQuota = try Self.chipLimit(limit) }
        var generated: String?
        if request.removeWebhook == true {
            if request.webhook != nil { throw WhagoError(.invalidRequest, "give either webhook or removeWebhook, not both") }
            (tenant.webhookURL, tenant.webhookSecret, tenant.previousWebhookSecret) = (nil, nil, nil)
        } else if let webhook = try request.webhook.map(Self.webhook) {
            tenant.webhookURL = webhook.url
            if let secret = webhook.secret, secret != tenant.webhookSecret {
                // The old secret keeps signing beside the new one until the next change.
                tenant.previousWebhookSecret = tenant.webhookSecret
                tenant.webhookSecret = secret
            } else if tenant.webhookSecret == nil {
                let secret = Secret(Self.randomSecret())
                tenant.webhookSecret = secret
                generated = secret.revealed
            }
        }
        let updated = try await orchestrator.tenants.update(tenant)
        return .ok(.init(body: .json(.init(tenant: .init(updated), webhookSecret: generated))))
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
        let now = Date()
        var counts: [WorkerID: Int] = [:]
        for chip in try await store.allChips() { if let worker = chip.worker { counts[worker, default: 0] += 1 } }
        let workers = try await store.workers().sorted { $0.id.rawValue < $1.id.rawValue }.map { worker in
            Components.Schemas.Worker(
                id: worker.id.rawValue, tenant: worker.tenant.rawValue, port: worker.port,
                status: worker.idleSince == nil ? .active : .idle,
                health: .init(rawValue: WorkerHealth.of(worker, now: now, healthyWithin: healthyWithin).rawValue) ?? .unknown,
                chips: counts[worker.id, default: 0], restarts: worker.restarts, lastHealthyAt: worker.lastHealthyAt)
        }
        return .ok(.init(body: .json(.init(workers: workers))))
    }

    // MARK: Checks

    static func chipLimit(_ value: Int) throws -> Int {
        guard (1...100_000).contains(value) else { throw WhagoError(.invalidRequest, "chipLimit must be 1 to 100000") }
        return value
    }

    /// A webhook as given: an http(s) URL of at most 2048 characters, a secret of 16 to 256.
    static func webhook(_ webhook: Components.Schemas.Webhook) throws -> (url: URL, secret: Secret?) {
        guard webhook.url.utf8.count <= 2048, let url = URL(string: webhook.url), ["http", "https"].contains(url.scheme?.lowercased() ?? ""),
              url.host?.isEmpty == false else {
            throw WhagoError(.invalidRequest, "webhook.url must be an http or https URL of at most 2048 characters")
        }
        if let secret = webhook.secret, !(16...256).contains(secret.utf8.count) {
            throw WhagoError(.invalidRequest, "webhook.secret must be 16 to 256 characters")
        }
        return (url, webhook.secret.map(Secret.init))
    }

    /// 32 random bytes, hex: a generated webhook secret.
    static func randomSecret() -> String {
        var generator = SystemRandomNumberGenerator()
        return Hex.encode((0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) })
    }
}
