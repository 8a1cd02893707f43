import Crypto
import Foundation
import WhagoCore

/// Verifies and decodes a WAHA webhook: HMAC-SHA512 of the raw body (`X-Webhook-Hmac`) in constant
/// time, then the envelope (`{id, timestamp, event, session, metadata, payload, …}`) into chip
/// events. Nothing is decoded before the signature is proven.
///
/// Only the body is signed: WAHA's `X-Webhook-Timestamp` and `X-Webhook-Request-Id` headers can be
/// rewritten by whoever captured a webhook. So the age is checked against the envelope's signed
/// `timestamp`, and each event's id is the envelope's signed `id`: a captured body replayed with
/// fresh headers decodes to the same ids, which the receiver's dedupe window drops.
struct WebhookDecoder: Sendable {
    let maxSkew: Duration

    func decode(body: [UInt8], headers: [String: String], secret: Secret, now: Date) throws -> [ChipEvent] {
        let headers = Dictionary(headers.map { ($0.key.lowercased(), $0.value) }, uniquingKeysWith: { first, _ in first })
        guard let signature = headers["x-webhook-hmac"], !signature.isEmpty else {
            throw WhagoError(.unauthorized, "the webhook carries no X-Webhook-Hmac signature")
        }
        if let algorithm = headers["x-webhook-hmac-algorithm"], algorithm.lowercased() != "sha512" {
            throw WhagoError(.unauthorized, "the webhook is signed with \(WorkerText.clean(algorithm)); whago accepts sha512 only")
        }
        guard let mac = Hex.decode(signature),
              HMAC<SHA512>.isValidAuthenticationCode(mac, authenticating: body, using: SymmetricKey(data: Array(secret.revealed.utf8))) else {
            throw WhagoError(.unauthorized, "the webhook's signature does not match its body")
        }
        let envelope: Envelope
        do {
            envelope = try JSONDecoder().decode(Envelope.self, from: Data(body))
        } catch {
            throw WhagoError(.protocolError, "the webhook's body is not a JSON object")
        }
        guard let stamp = envelope.timestamp, stamp.isFinite else {
            throw WhagoError(.unauthorized, "the webhook's signed body has no timestamp")
        }
        let sent = Date(timeIntervalSince1970: stamp / 1000)
        let skew = maxSkew.seconds
        let age = abs(sent.timeIntervalSince(now))
        guard age <= skew else {
            throw WhagoError(.unauthorized, "the webhook was signed \(age > 1e9 ? "ages" : "\(Int(age))s") away from now (at most \(Int(skew))s accepted)")
        }
        guard let signedID = envelope.id, !signedID.isEmpty, signedID.utf8.count <= 128 else {
            throw WhagoError(.protocolError, "the webhook's signed body has no id (or one over 128 bytes)")
        }
        guard let event = envelope.event, let session = envelope.session else {
            throw WhagoError(.protocolError, "the webhook's body has no event or session")
        }
        let chip = ChipID(rawValue: envelope.chip ?? session)
        let id = EventID(rawValue: signedID)
        let occurredAt = sent
        switch event {
        case "session.status":
            guard let status = envelope.status else {
                throw WhagoError(.protocolError, "a session.status webhook without a status")
            }
            // WAHA puts the paired account (`me`) on the envelope; the event carries it in its payload.
            var members: [String: JSONValue] = ["status": .string(status)]
            if let me = envelope.me {
                var account: [String: JSONValue] = ["id": .string(WorkerText.clean(me, limit: 64))]
                if let name = envelope.pushName { account["pushName"] = .string(WorkerText.clean(name, limit: 64)) }
                members["me"] = .object(account)
            }
            return [ChipEvent(id: id, chip: chip, kind: .statusChanged, status: WAHAPlusProvider.chipStatus(status),
                              payload: .object(members), occurredAt: occurredAt)]
        case "message", "message.ack":
            // Passed through to the tenant: the payload is read whole only for these.
            let payload = (try? JSONDecoder().decode(PayloadOnly.self, from: Data(body)))?.payload ?? .null
            let messageID = WAHAPlusProvider.messageID(payload).map { WorkerText.clean($0, limit: 256) }
            return [ChipEvent(id: id, chip: chip, kind: event == "message" ? .message : .messageAck, payload: payload, occurredAt: occurredAt,
                              providerMessageID: messageID)]
        default:
            return []
        }
    }
}

/// The fields of a WAHA webhook's envelope whago reads. Everything else in the body is skipped,
/// not decoded; a field of the wrong type reads as absent (and is then refused by its check).
struct Envelope: Decodable {
    var id: String?
    var timestamp: Double?
    var event: String?
    var session: String?
    /// `metadata["whago.chip"]`.
    var chip: String?
    /// `me.id`.
    var me: String?
    /// `me.pushName`.
    var pushName: String?
    /// `payload.status`.
    var status: String?

    private enum Keys: String, CodingKey { case id, timestamp, event, session, metadata, me, payload }
    private enum Nested: String, CodingKey {
        case chip = "whago.chip", id, status, pushName
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Keys.self)
        id = try? container.decodeIfPresent(String.self, forKey: .id)
        timestamp = try? container.decodeIfPresent(Double.self, forKey: .timestamp)
        event = try? container.decodeIfPresent(String.self, forKey: .event)
        session = try? container.decodeIfPresent(String.self, forKey: .session)
        func nested(_ key: Keys, _ field: Nested) -> String? {
            guard let inner = try? container.nestedContainer(keyedBy: Nested.self, forKey: key) else { return nil }
            return (try? inner.decodeIfPresent(String.self, forKey: field)) ?? nil
        }
        chip = nested(.metadata, .chip)
        me = nested(.me, .id)
        pushName = nested(.me, .pushName)
        status = nested(.payload, .status)
    }
}

/// A webhook's payload, whole.
struct PayloadOnly: Decodable {
    var payload: JSONValue?
}
