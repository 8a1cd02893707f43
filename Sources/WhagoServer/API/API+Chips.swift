import Foundation
import OpenAPIRuntime
import Orchestrator
import WhagoCore

extension APIHandler {
    func createChip(_ input: Operations.CreateChip.Input) async throws -> Operations.CreateChip.Output {
        guard case .json(let request) = input.body else { throw WhagoError(.invalidRequest, "expected a JSON body") }
        return .created(.init(body: .json(try await create(request))))
    }

    func createChipAlias(_ input: Operations.CreateChipAlias.Input) async throws -> Operations.CreateChipAlias.Output {
        guard case .json(let request) = input.body else { throw WhagoError(.invalidRequest, "expected a JSON body") }
        return .created(.init(body: .json(try await create(request))))
    }

    private func create(_ request: Components.Schemas.CreateChipRequest) async throws -> Components.Schemas.Chip {
        let chip = try await orchestrator.chips.create(.init(name: request.name, country: request.country, city: request.city), for: try Principal.tenant())
        return try await represent(chip)
    }

    func listChips(_ input: Operations.ListChips.Input) async throws -> Operations.ListChips.Output {
        let limit = try Self.pageSize(input.query.limit)
        let page = try await orchestrator.chips.list(of: try Principal.tenant(), after: input.query.after.map(ChipID.init), limit: limit)
        let leases = try await orchestrator.chips.proxies(of: page.map(\.id))
        let chips = page.map { Components.Schemas.Chip($0, proxy: leases[$0.id]) }
        return .ok(.init(body: .json(.init(chips: chips, next: page.count == limit ? page.last?.id.rawValue : nil))))
    }

    func getChip(_ input: Operations.GetChip.Input) async throws -> Operations.GetChip.Output {
        .ok(.init(body: .json(try await represent(try await chip(input.path.chipId)))))
    }

    func deleteChip(_ input: Operations.DeleteChip.Input) async throws -> Operations.DeleteChip.Output {
        try await orchestrator.chips.delete(ChipID(input.path.chipId), of: try Principal.tenant())
        return .noContent(.init())
    }

    func restartChip(_ input: Operations.RestartChip.Input) async throws -> Operations.RestartChip.Output {
        let chip = try await orchestrator.chips.restart(ChipID(input.path.chipId), of: try Principal.tenant())
        return .ok(.init(body: .json(try await represent(chip))))
    }

    func logoutChip(_ input: Operations.LogoutChip.Input) async throws -> Operations.LogoutChip.Output {
        let chip = try await orchestrator.chips.logout(ChipID(input.path.chipId), of: try Principal.tenant())
        return .ok(.init(body: .json(try await represent(chip))))
    }

    func getChipQR(_ input: Operations.GetChipQR.Input) async throws -> Operations.GetChipQR.Output {
        let id = ChipID(input.path.chipId)
        let tenant = try Principal.tenant()
        if input.query.format == .raw {
            let code = try await orchestrator.chips.qrCode(id, of: tenant, parts: .value)
            guard let value = code.value else { throw WhagoError(.unavailable, "the worker did not give the QR code's value") }
            return .ok(.init(body: .json(.QRValue(.init(value: value)))))
        }
        let accepted = input.headers.accept.map(\.contentType)
        let wantsJSON = accepted.contains(.json) && !accepted.contains(.png)
        let code = try await orchestrator.chips.qrCode(id, of: tenant, parts: .image)
        if wantsJSON {
            return .ok(.init(body: .json(.QRImage(.init(mimetype: "image/png", data: Base64EncodedData(code.png))))))
        }
        return .ok(.init(body: .png(HTTPBody(code.png))))
    }

    func requestPairingCode(_ input: Operations.RequestPairingCode.Input) async throws -> Operations.RequestPairingCode.Output {
        guard case .json(let request) = input.body else { throw WhagoError(.invalidRequest, "expected a JSON body") }
        let code = try await orchestrator.chips.requestPairingCode(ChipID(input.path.chipId), phoneNumber: request.phoneNumber, of: try Principal.tenant())
        return .ok(.init(body: .json(.init(code: code))))
    }

    /// The tenant's chip (`not_found` for another tenant's).
    func chip(_ id: String) async throws -> Chip {
        try await orchestrator.chips.get(ChipID(id), of: try Principal.tenant())
    }

    /// A chip as the API shows it, with its proxy.
    func represent(_ chip: Chip) async throws -> Components.Schemas.Chip {
        Components.Schemas.Chip(chip, proxy: try await orchestrator.chips.proxies(of: [chip.id])[chip.id])
    }
}
