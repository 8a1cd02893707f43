import Crypto
public import Foundation
public import WhagoCore

/// The signature of a tenant webhook: `X-Whago-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256>`
/// over `"<t>.<raw body>"` with the tenant's webhook secret (Stripe's scheme, so receivers can reuse
/// their code). During a secret rotation the previous secret signs too, as a second `v1=`.
public enum TenantWebhookSignature {
    public static let header = "X-Whago-Signature"
    public static let eventIDHeader = "X-Whago-Event-Id"

    /// The header's value for `body` signed at `time` with `secrets` (current first).
    public static func sign(_ body: [UInt8], secrets: [Secret], at time: Date) -> String {
        let timestamp = Int(time.timeIntervalSince1970)
        let signed = Array("\(timestamp).".utf8) + body
        let signatures = secrets.map { secret in
            "v1=" + Hex.encode(HMAC<SHA256>.authenticationCode(for: signed, using: SymmetricKey(data: Array(secret.revealed.utf8))))
        }
        return (["t=\(timestamp)"] + signatures).joined(separator: ",")
    }

    /// Whether `header` holds a valid signature of `body` by `secret`, made within `tolerance` of
    /// `now` (what a tenant's receiver does; the tests use it).
    public static func verify(_ header: String, body: [UInt8], secret: Secret, now: Date = Date(), tolerance: TimeInterval = 300) -> Bool {
        var timestamp: Int?
        var signatures: [String] = []
        for part in header.split(separator: ",") {
            let pair = part.split(separator: "=", maxSplits: 1).map(String.init)
            guard pair.count == 2 else { continue }
            if pair[0] == "t" { timestamp = Int(pair[1]) } else if pair[0] == "v1" { signatures.append(pair[1]) }
        }
        guard let timestamp, abs(now.timeIntervalSince1970 - Double(timestamp)) <= tolerance else { return false }
        let signed = Array("\(timestamp).".utf8) + body
        let key = SymmetricKey(data: Array(secret.revealed.utf8))
        return signatures.contains { hex in
            guard let mac = Hex.decode(hex) else { return false }
            return HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: signed, using: key)
        }
    }
}

