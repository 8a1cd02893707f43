public import CurlHTTP
import Foundation
import Synchronization
import WhagoCore

/// The Docker Engine API over CurlHTTP: where the daemon is, which API version to speak, and how
/// its answers and errors read.
///
/// The API version is negotiated once (`/_ping`, then `/version`) and every later path carries it
/// (`/v1.41/containers/json`), as Docker's own client does.
package final class DockerClient: Sendable {
    /// The oldest API whago speaks: Docker 20.10.
    static let minimumAPIVersion = APIVersion(1, 41)
    /// The newest API whago has read the documentation of; newer daemons are spoken to in this one.
    static let maximumAPIVersion = APIVersion(1, 47)

    /// Where the daemon listens.
    package enum Endpoint: Sendable, Hashable, CustomStringConvertible {
        case unixSocket(path: String)
        case tcp(host: String, port: Int)

        /// `unix:///path`, `/path` or `tcp://host:port`.
        package init?(_ text: String) {
            if text.hasPrefix("tcp://") || text.hasPrefix("http://") {
                let rest = text.drop(while: { $0 != "/" }).dropFirst(2).prefix(while: { $0 != "/" })
                guard let colon = rest.lastIndex(of: ":"), let port = Int(rest[rest.index(after: colon)...]),
                      (1...65535).contains(port), colon != rest.startIndex else { return nil }
                self = .tcp(host: String(rest[..<colon]), port: port)
            } else if text.hasPrefix("unix://") {
                let path = String(text.dropFirst("unix://".count))
                guard path.hasPrefix("/") else { return nil }
                self = .unixSocket(path: path)
            } else if text.hasPrefix("/") {
                self = .unixSocket(path: text)
            } else {
                return nil
            }
        }

        package var description: String {
            switch self {
            case .unixSocket(let path): "unix://\(path)"
            case .tcp(let host, let port): "tcp://\(host):\(port)"
            }
        }

        /// The URL prefix requests are made on; over a unix socket the host is only a `Host:` value,
        /// Docker's own client's placeholder.
        var baseURL: String {
            switch self {
            case .unixSocket: "http://api.moby.localhost"
            case .tcp(let host, let port): "http://\(host.contains(":") ? "[\(host)]" : host):\(port)"
            }
        }

        var unixSocketPath: String? {
            if case .unixSocket(let path) = self { path } else { nil }
        }

        /// Why whago refuses to speak to this endpoint, or nil: the Docker API is root on the
        /// daemon's host, so plain text is only acceptable over a unix socket or on loopback.
        /// - Parameter section: the configuration section that names it (`runtime.docker`).
        package func refusal(tls: Bool, plainTCP: Bool = false, section: String = "runtime.docker") -> String? {
            guard case .tcp(let host, _) = self, !tls else { return nil }
            guard isLoopbackHost(host) else {
                return "\(self) is not a loopback address: whago speaks to a remote Docker daemon only over TLS "
                    + "(set \(section).tls with ca, cert and key, and start dockerd with --tlsverify)"
            }
            guard plainTCP else {
                return "\(self) is a Docker daemon on plain TCP: every process of this host can drive it (root on the host), "
                    + "a worker on the host network included; use its unix socket, or set \(section).tls, or accept it by writing "
                    + "\(section).plainTCP: true"
            }
            return nil
        }
    }

    /// `major.minor`, ordered.
    package struct APIVersion: Sendable, Hashable, Comparable, CustomStringConvertible {
        var major: Int
        var minor: Int

        init(_ major: Int, _ minor: Int) {
            self.major = major
            self.minor = minor
        }

        init?(_ text: String) {
            let parts = text.split(separator: ".")
            guard parts.count == 2, let major = Int(parts[0]), let minor = Int(parts[1]) else { return nil }
            self.init(major, minor)
        }

        package static func < (lhs: Self, rhs: Self) -> Bool { (lhs.major, lhs.minor) < (rhs.major, rhs.minor) }
        package var description: String { "\(major).\(minor)" }
    }

    /// What the daemon said about itself during negotiation.
    package struct Negotiated: Sendable, Hashable {
        /// The version every request is made in.
        package var apiVersion: APIVersion
        /// The daemon's own newest API version.
        package var daemonAPIVersion: APIVersion
        /// e.g. `20.10.24`.
        package var engineVersion: String
    }

    /// A response: status and body.
    package struct Reply: Sendable {
        package var status: Int
        package var body: [UInt8]

        /// The daemon's `{"message": …}`, or the body's text.
        package var message: String {
            if let error = try? JSONDecoder().decode(ErrorBody.self, from: Data(body)) { return error.message }
            return String(decoding: body.prefix(500), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        }

        package func decode<T: Decodable>(_ type: T.Type, _ what: String) throws -> T {
            do {
                return try JSONDecoder().decode(type, from: Data(body))
            } catch {
                throw WhagoError(.protocolError, "the Docker daemon's answer to \(what) could not be read: \(error)")
            }
        }
    }

    private struct ErrorBody: Decodable { var message: String }

    package let endpoint: Endpoint
    /// Mutual TLS to a `tcp://` endpoint: requests go to `https://`.
    let tls: TLSFiles?
    /// A plain-TCP daemon on loopback accepted (`plainTCP: true`).
    let plainTCP: Bool
    let http: HTTPClient
    private let negotiated = Mutex<Negotiated?>(nil)

    /// The daemon a configuration section names: its `socket` (validated when decoded) and `tls`.
    package convenience init(socket: String, tls: DockerTLS?, plainTCP: Bool = false, http: HTTPClient) {
        self.init(endpoint: Endpoint(socket) ?? .unixSocket(path: socket),
                  tls: tls.map { TLSFiles(certificateAuthority: $0.ca, certificate: $0.cert, key: $0.key) }, plainTCP: plainTCP, http: http)
    }

    package init(endpoint: Endpoint, tls: TLSFiles? = nil, plainTCP: Bool = false, http: HTTPClient) {
        self.endpoint = endpoint
        self.plainTCP = plainTCP
        self.tls = endpoint.unixSocketPath == nil ? tls : nil
        self.http = http
    }

    // MARK: Negotiation

    /// The negotiated version, negotiating on first use.
    package func negotiate() async throws -> Negotiated {
        if let known = negotiated.withLock({ $0 }) { return known }
        if let refusal = endpoint.refusal(tls: tls != nil, plainTCP: plainTCP) { throw WhagoError(.invalidConfig, refusal) }
        let ping = try await send(.get, "/_ping", versioned: false, timeout: .seconds(10))
        guard ping.status == 200 else {
            throw WhagoError(.unavailable, "the Docker daemon at \(endpoint) answered /_ping with \(ping.status): \(ping.message)")
        }
        let reply = try await send(.get, "/version", versioned: false, timeout: .seconds(10))
        guard reply.status == 200 else {
            throw WhagoError(.unavailable, "the Docker daemon at \(endpoint) answered /version with \(reply.status): \(reply.message)")
        }
        let version = try reply.decode(VersionBody.self, "/version")
        guard let daemonAPI = APIVersion(version.ApiVersion) else {
            throw WhagoError(.protocolError, "the Docker daemon at \(endpoint) reports an unreadable API version '\(version.ApiVersion)'")
        }
        guard daemonAPI >= Self.minimumAPIVersion else {
            throw WhagoError(.invalidConfig, """
                the Docker daemon at \(endpoint) is Docker \(version.Version) with API \(daemonAPI); whago needs API \
                \(Self.minimumAPIVersion) or newer (Docker 20.10 or newer)
                """)
        }
        let result = Negotiated(apiVersion: min(daemonAPI, Self.maximumAPIVersion), daemonAPIVersion: daemonAPI,
                                engineVersion: version.Version)
        negotiated.withLock { $0 = result }
        return result
    }

    private struct VersionBody: Decodable {
        var Version: String
        var ApiVersion: String
    }

    // MARK: Requests

    /// Performs one call in the negotiated version. Only transport failures throw; any status is a
    /// reply. `query` values are percent-encoded here.
    package func send(_ method: HTTPClientRequest.Method, _ path: String, query: [(String, String)] = [], json: (any Encodable)? = nil,
              rawJSON: [UInt8]? = nil, versioned: Bool = true, timeout: Duration = .seconds(60)) async throws -> Reply {
        var request = try await request(method, path, query: query, json: json, versioned: versioned, timeout: timeout)
        if let rawJSON {
            request.body = rawJSON
            request.addHeader("Content-Type", "application/json")
        }
        do {
            let response = try await http.execute(request)
            return Reply(status: response.status, body: response.body)
        } catch let error as HTTPClientError {
            throw unreachable(error)
        }
    }

    /// Performs one call whose body is a stream (`/events`, a pull's progress).
    package func stream(_ method: HTTPClientRequest.Method, _ path: String, query: [(String, String)] = [],
                timeout: Duration) async throws -> HTTPClientStreamingResponse {
        let request = try await request(method, path, query: query, json: nil, versioned: true, timeout: timeout)
        do {
            return try await http.stream(request)
        } catch let error as HTTPClientError {
            throw unreachable(error)
        }
    }

    private func request(_ method: HTTPClientRequest.Method, _ path: String, query: [(String, String)], json: (any Encodable)?,
                         versioned: Bool, timeout: Duration) async throws -> HTTPClientRequest {
        var url = tls == nil ? endpoint.baseURL : "https" + endpoint.baseURL.dropFirst("http".count)
        if versioned { url += "/v\(try await negotiate().apiVersion)" }
        url += path
        if !query.isEmpty {
            url += "?" + query.map { "\($0.0)=\(Self.percentEncoded($0.1))" }.joined(separator: "&")
        }
        var request = HTTPClientRequest(method, url, timeout: timeout, connectTimeout: .seconds(5), unixSocketPath: endpoint.unixSocketPath)
        request.tls = tls
        if let json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = .sortedKeys
            request.body = Array(try encoder.encode(json))
            request.addHeader("Content-Type", "application/json")
        }
        return request
    }

    private func unreachable(_ error: HTTPClientError) -> WhagoError {
        if error.kind == .cancelled { return WhagoError(.unavailable, "the call to the Docker daemon was cancelled") }
        return WhagoError(.unavailable, "cannot reach the Docker daemon at \(endpoint): \(error.message)")
    }

    private static let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")

    /// Every character outside RFC 3986's unreserved set percent-encoded.
    package static func percentEncoded(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: unreserved) ?? text
    }

    /// `filters=` as Docker reads it: a JSON object of string lists.
    package static func filters(_ filters: [String: [String]]) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return String(decoding: (try? encoder.encode(filters)) ?? Data("{}".utf8), as: UTF8.self)
    }
}
