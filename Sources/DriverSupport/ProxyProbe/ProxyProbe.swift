public import CurlHTTP
public import WhagoCore
import Foundation

/// A real request through a proxy to a probe URL: latency, and the exit IP when the probe answers
/// with one (a bare address, or JSON with `ip`/`origin`/`query`). Shared by the proxy drivers'
/// `check`. Errors: `unauthorized` (credentials refused), `unavailable` (anything else); the
/// password never appears in them.
public enum ProxyProbe {
    public static func check(_ endpoint: ProxyEndpoint, probeURL: String, http: HTTPClient = .shared) async throws -> ProxyCheck {
        let scheme: HTTPProxy.Scheme = switch endpoint.scheme {
        case .socks5h: .socks5h
        case .socks5: .socks5
        case .http: .http
        case .https: .https
        }
        let proxy = HTTPProxy(scheme, host: endpoint.host, port: endpoint.port, username: endpoint.username, password: endpoint.password?.revealed)
        let start = ContinuousClock.now
        let response: HTTPClientResponse
        do {
            response = try await http.execute(HTTPClientRequest(.get, probeURL, timeout: .seconds(15), connectTimeout: .seconds(10),
                                                                proxy: proxy, maxBodySize: 64 << 10))
        } catch let error as HTTPClientError {
            // libcurl's words for a SOCKS5 server refusing the login: "User was rejected by the SOCKS5
            // server", "No authentication method was acceptable" (lib/socks.c).
            let refused = ["auth", "rejected"].contains { error.message.localizedCaseInsensitiveContains($0) }
            let code: WhagoError.Code = refused ? .unauthorized : .unavailable
            throw WhagoError(code, "the proxy \(endpoint) failed: \(error.message)")
        }
        let latency = ContinuousClock.now - start
        if response.status == 407 {
            throw WhagoError(.unauthorized, "the proxy \(endpoint) refused the credentials (407)")
        }
        guard (200...299).contains(response.status) else {
            throw WhagoError(.unavailable, "the probe \(probeURL) answered \(response.status) through the proxy \(endpoint)")
        }
        return ProxyCheck(exitIP: exitIP(response.body), latency: latency)
    }

    /// The address in a probe's answer: `203.0.113.7`, or `{"ip": …}` (ipify), `{"origin": …}`
    /// (httpbin), `{"query": …}` (ip-api).
    public static func exitIP(_ body: [UInt8]) -> String? {
        let text = String(decoding: body.prefix(4096), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        if isAddress(text) { return text }
        guard let json = try? JSONDecoder().decode(JSONValue.self, from: Data(text.utf8)) else { return nil }
        return ["ip", "origin", "query"].lazy.compactMap { json[$0]?.stringValue }.first(where: isAddress)
    }

    private static func isAddress(_ text: String) -> Bool {
        !text.isEmpty && text.count <= 45 && (text.split(separator: ".").count == 4 && text.allSatisfy { $0.isNumber || $0 == "." }
            || text.contains(":") && text.allSatisfy { $0.isHexDigit || $0 == ":" || $0 == "." })
    }
}
