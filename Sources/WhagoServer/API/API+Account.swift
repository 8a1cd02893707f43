import Foundation
import OpenAPIRuntime
import Orchestrator
import WhagoCore

extension APIHandler {
    /// Who the credential belongs to: what the console asks first.
    func getAccount(_ input: Operations.GetAccount.Input) async throws -> Operations.GetAccount.Output {
        let defaults = Components.Schemas.Account.DefaultsPayload(country: orchestrator.chips.defaultCountry)
        guard let id = try Principal.tenantOrAll() else {
            return .ok(.init(body: .json(.init(role: .admin, defaults: defaults))))
        }
        let tenant = try await orchestrator.tenants.get(id)
        return .ok(.init(body: .json(.init(role: .tenant, tenant: .init(tenant), chipLimit: orchestrator.chips.chipLimit(of: tenant),
                                           defaults: defaults))))
    }
}
