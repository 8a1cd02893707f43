import CurlHTTP
import Foundation
import Logging
import WhagoCore

extension SessionManager {
    // MARK: The virtual phone and test controls

    /// Pairs a session waiting for a scan: it becomes WORKING with a made-up account.
    func pair(_ name: String, phone: String?) throws(SimulatorError) -> SimulatedSession {
        let session = try session(name)
        guard session.status == .scanQRCode else { throw .statusNotExpected(name, session.status, expected: [.scanQRCode]) }
        let number = phone ?? Self.phoneNumber(for: name)
        sessions[name]?.me = MeInfo(id: "\(number)@c.us", pushName: "Simulated \(name)", lid: "\(String(number.reversed()))@lid",
                                    jid: "\(number):1@s.whatsapp.net")
        lifecycles[name]?.cancel()
        sessions[name]?.generation += 1
        sessions[name]?.qr = nil
        transition(name, to: .working)
        return sessions[name]!
    }

    /// A phone scanning a QR value: pairs when it is the session's current, unexpired QR.
    func scan(_ value: String) throws(SimulatorError) -> SimulatedSession {
        guard value.hasPrefix("waha-sim://"), let name = value.split(separator: "/").dropFirst(2).first.map(String.init),
              let nonce = value.split(separator: "/").last.map(String.init) else {
            throw .badRequest("not a waha-sim QR value (expected waha-sim://host:port/session/nonce)")
        }
        let session = try session(name)
        guard let qr = session.qr, session.status == .scanQRCode, qr.nonce == nonce else {
            throw .gone("this QR code was replaced or the session is no longer waiting for a scan; get a new one")
        }
        guard ContinuousClock.now < qr.expiresAt else { throw .gone("this QR code has expired; get a new one") }
        return try pair(name, phone: nil)
    }

    func fail(_ name: String, reason: String?) throws(SimulatorError) -> SimulatedSession {
        _ = try session(name)
        halt(name, to: .failed, reason: reason ?? "failed on request (POST /_sim/sessions/\(name)/fail)")
        return sessions[name]!
    }

    /// A message arriving from a contact: a `message` webhook.
    func inbound(_ name: String, from: String, body: String) async throws(SimulatorError) -> JSONValue {
        let session = try session(name)
        guard session.status == .working else { throw .statusNotExpected(name, session.status, expected: [.working]) }
        let now = Int64(Date().timeIntervalSince1970)
        let message: JSONValue = .object([
            "id": .string("false_\(from)_\(ULID.make().uppercased().suffix(20))"), "timestamp": .number(Double(now)),
            "from": .string(from), "fromMe": .bool(false), "source": "app", "to": .string(session.me?.id ?? ""),
            "participant": .string(from), "body": .string(body), "hasMedia": .bool(false), "mediaUrl": "",
            "ack": .number(2), "ackName": "DEVICE",
        ])
        sessions[name]?.lastActivity = now * 1000
        await webhooks.emit("message", session: session, payload: message)
        return message
    }
}
