import CurlHTTP
import Foundation

/// How each of WAHA's engines turns a session's `config.proxy` (`{server, username, password}`)
/// into the proxy it connects through — read from WAHA's source (core 2026.2) — so that the
/// simulator, which really connects through the result, fails wherever the engine would:
///
/// - GOWS (`session.gows.core.ts`, `getProxyUrl`): `http://<username>:<password>@<server>`, the
///   credentials only when both are set, nothing encoded; the Go side parses it as a URL (the
///   authority ends at the first `/`, `?` or `#`; the user information is what comes before the
///   last `@`, split at its first `:`, and percent-decoded) and speaks HTTP to that proxy.
///   `socks5://h:p` becomes a proxy named `socks5`.
/// - NOWEB (`helpers.proxy.ts`, `createAgentProxy`): `server` gets `http://` unless it starts with
///   `http://` or `https://`, the credentials are set on the URL (percent-encoded by the URL
///   setters, decoded again by `HttpsProxyAgent`), and the connection is an HTTP CONNECT through it.
///   `socks5://h:p` becomes `http://socks5://h:p`: again a proxy named `socks5`.
/// - WEBJS (`session.webjs.core.ts`, `addProxyConfig`): Chromium gets `--proxy-server=<server>`
///   (HTTP when no scheme is written; `socks5://` and `https://` as written) and the credentials
///   through puppeteer's `proxyAuthentication`, which Chromium cannot use with a SOCKS proxy
///   (puppeteer issue 4170).
///
/// A session whose proxy cannot be used never reaches WORKING: GOWS's `StartSession` fails and
/// the session is FAILED (`start`'s catch); NOWEB's connection closes and restarts until its status
/// tracker finds it stuck in STARTING and makes it FAILED (`listenConnectionEvents`). The
/// simulator makes it FAILED after the start-up delay, with the reason.
///
/// The simulator resolves no host names (nothing it does may leave the machine): a proxy host must
/// be an IP address or `localhost`.
enum EngineProxy {
    /// Why a proxy cannot be used, as the engine would find.
    struct Unusable: Error, CustomStringConvertible {
        var description: String
    }

    /// The proxy `engine` connects through for `config`.
    static func resolve(_ config: SessionConfigView.Proxy, engine: String) throws(Unusable) -> HTTPProxy {
        let username = config.username.flatMap { $0.isEmpty ? nil : $0 }
        let password = config.password.flatMap { $0.isEmpty ? nil : $0 }
        switch engine.uppercased() {
        case "NOWEB":
            let url = config.server.hasPrefix("http://") || config.server.hasPrefix("https://") ? config.server : "http://" + config.server
            var proxy = try parse(url, engine: "NOWEB", decodeUserInfo: false)
            proxy.username = username
            proxy.password = password
            return proxy
        case "WEBJS":
            let written = config.server.contains("://") ? config.server : "http://" + config.server
            var proxy = try parse(written, engine: "WEBJS", decodeUserInfo: false)
            if [.socks5, .socks5h].contains(proxy.scheme), username != nil || password != nil {
                throw Unusable(description: "WEBJS (Chromium) cannot authenticate to a SOCKS proxy: \(config.server) with a username and password")
            }
            if username != nil, password != nil {
                proxy.username = username
                proxy.password = password
            }
            return proxy
        default:
            // GOWS: the URL is made by gluing strings; what the Go side reads of it is what counts.
            let auth = username != nil && password != nil ? "\(username!):\(password!)@" : ""
            return try parse("http://\(auth)\(config.server)", engine: "GOWS", decodeUserInfo: true)
        }
    }

    /// A URL read as Go's `net/url` and WHATWG's parser agree on for these: the scheme, then the
    /// authority up to the first `/`, `?` or `#`, the user information before its last `@`.
    private static func parse(_ url: String, engine: String, decodeUserInfo: Bool) throws(Unusable) -> HTTPProxy {
        guard let separator = url.range(of: "://") else { throw Unusable(description: "\(engine): proxy URL without a scheme") }
        let schemeText = url[..<separator.lowerBound].lowercased()
        let scheme: HTTPProxy.Scheme
        switch schemeText {
        case "http": scheme = .http
        case "https": scheme = .https
        case "socks5": scheme = .socks5
        case "socks5h": scheme = .socks5h
        default: throw Unusable(description: "\(engine): proxy scheme '\(schemeText)' is not one it speaks")
        }
        let rest = url[separator.upperBound...]
        let authority = rest.prefix { !"/?#".contains($0) }
        var hostPort = Substring(authority)
        var username: String?
        var password: String?
        if let at = authority.lastIndex(of: "@") {
            let userInfo = authority[..<at]
            hostPort = authority[authority.index(after: at)...]
            let parts = userInfo.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            if decodeUserInfo {
                guard userInfo.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-._:~!$&'()*+,;=%@".contains($0)) }),
                      let user = parts[0].removingPercentEncoding, let pass = (parts.count > 1 ? parts[1] : "").removingPercentEncoding else {
                    throw Unusable(description: "\(engine): invalid user information in the proxy URL (a credential with a character a URL cannot hold as it is)")
                }
                username = user
                password = parts.count > 1 ? pass : nil
            }
        }
        var host = String(hostPort)
        var port = scheme == .https ? 443 : scheme == .http ? 80 : 1080
        if host.hasPrefix("[") {
            guard let close = host.firstIndex(of: "]") else { throw Unusable(description: "\(engine): invalid proxy host \(host)") }
            let after = host[host.index(after: close)...]
            if after.hasPrefix(":"), let written = Int(after.dropFirst()) { port = written }
            host = String(host[host.index(after: host.startIndex)..<close])
        } else if let colon = host.lastIndex(of: ":") {
            let written = host[host.index(after: colon)...]
            if !written.isEmpty {
                guard let number = Int(written), (1...65535).contains(number) else {
                    throw Unusable(description: "\(engine): invalid proxy port '\(written)'")
                }
                port = number
            }
            host = String(host[..<colon])
        }
        guard !host.isEmpty else { throw Unusable(description: "\(engine): the proxy URL has no host") }
        guard host == "localhost" || isIPAddress(host) else {
            throw Unusable(description: "\(engine): cannot resolve proxy host '\(host)' (the simulator resolves no names: give an IP address)")
        }
        return HTTPProxy(scheme, host: host, port: port, username: username, password: password)
    }

    private static func isIPAddress(_ host: String) -> Bool {
        var v4 = in_addr()
        var v6 = in6_addr()
        return inet_pton(AF_INET, host, &v4) == 1 || inet_pton(AF_INET6, host, &v6) == 1
    }
}
