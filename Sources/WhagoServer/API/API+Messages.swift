import Foundation
import OpenAPIRuntime
import Orchestrator
import WhagoCore

extension APIHandler {
    /// Paced by the orchestrator (429 `pacing`), sent once per `Idempotency-Key`.
    func sendMessage(_ input: Operations.SendMessage.Input) async throws -> Operations.SendMessage.Output {
        guard case .json(let request) = input.body else { throw WhagoError(.invalidRequest, "expected a JSON body") }
        let message = try await orchestrator.chips.sendText(OutgoingText(chatID: request.chatId, text: request.text),
                                                            from: ChipID(input.path.chipId), of: try Principal.tenant(),
                                                            idempotencyKey: input.headers.idempotencyKey)
        return .created(.init(body: .json(.init(message))))
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
