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

    static func make(_ chip: ChipSpec, proxy: ProxyEndpoint?, webhook: WebhookTarget, _ configuration: WAHAPlusConfiguration) throws -> JSONValue {
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
        if let proxy { config["proxy"] = try proxyConfig(proxy, engine: configuration.engine) }
        let fingerprint = fingerprint(of: .object(config))
        config["metadata"] = .object(["whago.tenant": .string(chip.tenant.rawValue), "whago.chip": .string(chip.chip.rawValue),
                                      fingerprintKey: .string(fingerprint)])
        return .object(config)
    }

    /// WAHA's `ProxyConfig` for `engine`: `server` is `host:port` for HTTP (WAHA's documented form)
    /// and `https://host:port` for HTTPS, the credentials beside it. A protocol the engine cannot
    /// use (``WAHAPlusConfiguration/Engine/proxySchemes``) is refused here, before any worker is
    /// asked. GOWS glues `http://<username>:<password>@<server>` together and its Go side
    /// percent-decodes the user information, so for GOWS the credentials are percent-encoded
    /// (every byte but letters, digits and `-._~`): `@ / # ? : %` then reach the proxy as written.
    static func proxyConfig(_ proxy: ProxyEndpoint, engine: WAHAPlusConfiguration.Engine) throws(WhagoError) -> JSONValue {
        guard engine.proxySchemes.contains(proxy.scheme) else {
            throw WhagoError(.invalidConfig, "WAHA's \(engine.rawValue) engine cannot use a \(proxy.scheme.rawValue) proxy "
                + "(\(engine.proxyReason)): give it \(engine.proxySchemes.map(\.rawValue).joined(separator: " or ")) proxies")
        }
        let host = proxy.host.contains(":") ? "[\(proxy.host)]" : proxy.host
        let server = proxy.scheme == .https ? "https://\(host):\(proxy.port)" : "\(host):\(proxy.port)"
        var object: [String: JSONValue] = ["server": .string(server)]
        let encode: (String) -> String = engine == .gows ? { $0.addingPercentEncoding(withAllowedCharacters: unreserved) ?? $0 } : { $0 }
        if let username = proxy.username { object["username"] = .string(encode(username)) }
        if let password = proxy.password { object["password"] = .string(encode(password.revealed)) }
        return .object(object)
    }

    /// RFC 3986's unreserved characters.
    private static let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")

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
