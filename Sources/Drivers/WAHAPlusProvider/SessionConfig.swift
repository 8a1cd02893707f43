import Crypto
import Foundation
import WhagoCore

/// The WAHA `SessionConfig` whago gives a chip's session, and its fingerprint.
///
/// The fingerprint (a hash of the whole config, secrets included) rides in the session's metadata
/// as `whago.config`: `ensureSession` compares fingerprints instead of configs, so it neither
/// depends on how a WAHA version echoes secrets back nor restarts a session whose config is
/// already right.
enum SessionConfig {
    /// The events whago follows.
    static let events = ["session.status", "message", "message.ack"]
    static let fingerprintKey = "whago.config"

    static func make(_ chip: ChipSpec, proxy: ProxyEndpoint?, webhook: WebhookTarget, _ configuration: WAHAPlusConfiguration) -> JSONValue {
        var config: [String: JSONValue] = [
            "metadata": .object(["whago.tenant": .string(chip.tenant.rawValue), "whago.chip": .string(chip.chip.rawValue)]),
            "webhooks": .array([.object([
                "url": .string(webhook.url.absoluteString),
                "events": .array(events.map { .string($0) }),
                "hmac": .object(["key": .string(webhook.secret.revealed)]),
                "retries": .object([
                    "policy": .string(configuration.webhookRetryPolicy.rawValue),
                    "delaySeconds": .number(Double(max(1, configuration.webhookRetryDelay.duration.components.seconds))),
                    "attempts": .number(Double(configuration.webhookRetries)),
                ]),
            ])]),
        ]
        if let proxy { config["proxy"] = proxyConfig(proxy) }
        let fingerprint = fingerprint(of: .object(config))
        config["metadata"] = .object(["whago.tenant": .string(chip.tenant.rawValue), "whago.chip": .string(chip.chip.rawValue),
                                      fingerprintKey: .string(fingerprint)])
        return .object(config)
    }

    /// WAHA's `ProxyConfig`: `server` is `host:port` for HTTP (WAHA's form) and `socks5://host:port`
    /// for SOCKS5; credentials go beside it.
    static func proxyConfig(_ proxy: ProxyEndpoint) -> JSONValue {
        let host = proxy.host.contains(":") ? "[\(proxy.host)]" : proxy.host
        let server: String = switch proxy.scheme {
        case .http: "\(host):\(proxy.port)"
        case .https: "https://\(host):\(proxy.port)"
        case .socks5, .socks5h: "socks5://\(host):\(proxy.port)"
        }
        var object: [String: JSONValue] = ["server": .string(server)]
        if let username = proxy.username { object["username"] = .string(username) }
        if let password = proxy.password { object["password"] = .string(password.revealed) }
        return .object(object)
    }

    /// 16 hex digits of SHA-256 over the config's canonical JSON.
    static func fingerprint(of config: JSONValue) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let data = (try? encoder.encode(config)) ?? Data()
        return Hex.encode(SHA256.hash(data: data).prefix(8))
    }

    /// The fingerprint a session's config carries, if whago wrote it.
    static func fingerprint(inSession info: JSONValue) -> String? {
        info["config"]?["metadata"]?[fingerprintKey]?.stringValue
    }
}
