import Foundation
import OpenAPIRuntime
import Orchestrator
import WhagoCore

extension APIHandler {
    /// Paced (429 `pacing`), then sent once: an `Idempotency-Key` seen before returns the first
    /// message without pacing or sending again.
    func sendMessage(_ input: Operations.SendMessage.Input) async throws -> Operations.SendMessage.Output {
        guard case .json(let request) = input.body else { throw WhagoError(.invalidRequest, "expected a JSON body") }
        let chip = try await chip(input.path.chipId)
        let key = input.headers.idempotencyKey
        if let key, let earlier = try await store.message(of: chip.id, idempotencyKey: key) {
            return .created(.init(body: .json(.init(earlier))))
        }
        guard chip.status == .working else {
            throw WhagoError(.invalidState, "chip \(chip.id) is \(chip.status.rawValue); it sends once WORKING")
        }
        try await pacer.reserve(chip)
        do {
            let message = try await orchestrator.chips.sendText(OutgoingText(chatID: request.chatId, text: request.text), from: chip.id,
                                                                of: chip.tenant, idempotencyKey: key)
            return .created(.init(body: .json(.init(message))))
        } catch let error as WhagoError where [.invalidRequest, .invalidState, .notFound, .conflict].contains(error.code) {
            pacer.release(chip.id)
            throw error
        }
    }
}

extension Components.Schemas.Message {
    init(_ message: OutgoingMessage) {
        let status: StatusPayload = switch message.status {
        case .queued: .queued
        case .sent: .sent
        case .failed: .failed
        case .unknown: .unknown
        }
        self.init(id: message.id.rawValue, status: status)
    }
}
