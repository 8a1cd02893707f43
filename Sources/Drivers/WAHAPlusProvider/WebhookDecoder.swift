import Crypto
import Foundation
import WhagoCore

/// Verifies and decodes a WAHA webhook: HMAC-SHA512 of the raw body (`X-Webhook-Hmac`) in constant
/// time, `X-Webhook-Timestamp` (Unix ms) within the allowed skew, then the envelope
/// (`{id, timestamp, event, session, metadata, payload, …}`) into chip events. Nothing is decoded
/// before the signature is proven.
struct WebhookDecoder: Sendable {
    let maxSkew: Duration

    func decode(body: [UInt8], headers: [String: String], secret: Secret, now: Date) throws -> [ChipEvent] {
        let headers = Dictionary(headers.map { ($0.key.lowercased(), $0.value) }, uniquingKeysWith: { first, _ in first })
        guard let signature = headers["x-webhook-hmac"], !signature.isEmpty else {
            throw WhagoError(.unauthorized, "the webhook carries no X-Webhook-Hmac signature")
        }
        if let algorithm = headers["x-webhook-hmac-algorithm"], algorithm.lowercased() != "sha512" {
            throw WhagoError(.unauthorized, "the webhook is signed with \(algorithm); whago accepts sha512 only")
        }
        guard let mac = Hex.decode(signature),
              HMAC<SHA512>.isValidAuthenticationCode(mac, authenticating: body, using: SymmetricKey(data: Array(secret.revealed.utf8))) else {
            throw WhagoError(.unauthorized, "the webhook's signature does not match its body")
        }
        guard let stamp = headers["x-webhook-timestamp"].flatMap({ Int64($0) }) else {
            throw WhagoError(.unauthorized, "the webhook carries no X-Webhook-Timestamp")
        }
        let sent = Date(timeIntervalSince1970: Double(stamp) / 1000)
        let skew = maxSkew.seconds
        guard abs(sent.timeIntervalSince(now)) <= skew else {
            throw WhagoError(.unauthorized, "the webhook's timestamp is \(Int(abs(sent.timeIntervalSince(now))))s away from now (at most \(Int(skew))s accepted)")
        }
        let envelope: JSONValue
        do {
            envelope = try JSONDecoder().decode(JSONValue.self, from: Data(body))
        } catch {
            throw WhagoError(.protocolError, "the webhook's body is not JSON")
        }
        guard let event = envelope["event"]?.stringValue, let session = envelope["session"]?.stringValue else {
            throw WhagoError(.protocolError, "the webhook's body has no event or session")
        }
        let chip = ChipID(rawValue: envelope["metadata"]?["whago.chip"]?.stringValue ?? session)
        let id = EventID(rawValue: envelope["id"]?.stringValue ?? headers["x-webhook-request-id"] ?? UUID().uuidString)
        let occurredAt = envelope["timestamp"]?.numberValue.map { Date(timeIntervalSince1970: $0 / 1000) } ?? sent
        let payload = envelope["payload"] ?? .null
        switch event {
        case "session.status":
            guard let status = payload["status"]?.stringValue else {
                throw WhagoError(.protocolError, "a session.status webhook without a status")
            }
            return [ChipEvent(id: id, chip: chip, kind: .statusChanged, status: WAHAPlusProvider.chipStatus(status),
                              payload: payload, occurredAt: occurredAt)]
        case "message":
            return [ChipEvent(id: id, chip: chip, kind: .message, payload: payload, occurredAt: occurredAt)]
        case "message.ack":
            return [ChipEvent(id: id, chip: chip, kind: .messageAck, payload: payload, occurredAt: occurredAt)]
        default:
            return []
        }
    }
}
