import Foundation
public import Logging
import NIOCore
import NIOSSL
public import PostgresNIO
import WhagoCore

/// `postgres://user:password@host:port/database?sslmode=…&sslrootcert=…&host=/unix/socket/dir`.
///
/// TLS follows libpq's `sslmode`, with a safer default: when `sslmode` is not written, a host that
/// is not loopback gets `require` (the network between whago and PostgreSQL is not assumed to be
/// private) and a loopback host or unix socket gets `disable`. `prefer` tries TLS and falls back to
/// plain text; `require` encrypts; `verify-ca` also checks the server's certificate chain, and
/// `verify-full` its name too. When `sslrootcert` is given, the certificate is always checked
/// against it (as libpq does for `require`).
package struct PostgresURL: Sendable {
    enum TLSMode: String, Sendable, CaseIterable {
        case disable, allow, prefer, require
        case verifyCA = "verify-ca"
        case verifyFull = "verify-full"
    }

    var host: String?
    var port: Int
    var socketPath: String?
    var user: String
    var password: String?
    var database: String?
    var tlsMode: TLSMode
    /// A PEM file of the certificate authorities the server's certificate must chain to.
    var rootCertificate: String?

    /// Where it points, without credentials: for errors and logs.
    package var endpoint: String { socketPath ?? "\(host ?? "?"):\(port)" }

    /// - Parameter setting: where the URL was given (`store.postgres.url`), for errors.
    package static func parse(_ url: String, setting: String = "store.postgres.url") throws -> PostgresURL {
        let invalid = WhagoError(.invalidConfig, "\(setting) must look like postgres://user:password@host:5432/database")
        guard let components = URLComponents(string: url), ["postgres", "postgresql"].contains(components.scheme ?? "") else { throw invalid }
        let query = Dictionary((components.queryItems ?? []).map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { $1 })
        guard let user = components.user.flatMap({ $0.removingPercentEncoding }), !user.isEmpty else { throw invalid }
        let port = components.port ?? 5432
        var parsed = PostgresURL(host: components.host, port: port, socketPath: nil, user: user,
                                 password: components.password.flatMap { $0.removingPercentEncoding },
                                 database: components.path.split(separator: "/").first.map(String.init),
                                 tlsMode: .disable, rootCertificate: query["sslrootcert"].flatMap { $0.isEmpty ? nil : $0 })
        if let socketDirectory = query["host"], socketDirectory.hasPrefix("/") {
            parsed.socketPath = "\(socketDirectory)/.s.PGSQL.\(port)"
        } else if (parsed.host ?? "").isEmpty {
            throw invalid
        }
        if let mode = query["sslmode"] {
            guard let tlsMode = TLSMode(rawValue: mode) else {
                throw WhagoError(.invalidConfig, "\(setting): sslmode '\(mode)' is not one of "
                    + TLSMode.allCases.map(\.rawValue).joined(separator: ", "))
            }
            parsed.tlsMode = tlsMode
        } else {
            parsed.tlsMode = parsed.socketPath != nil || isLoopbackHost(parsed.host ?? "") ? .disable : .require
        }
        if let root = parsed.rootCertificate, !FileManager.default.isReadableFile(atPath: root) {
            throw WhagoError(.invalidConfig, "\(setting): sslrootcert '\(root)' cannot be read")
        }
        return parsed
    }

    /// The TLS settings for the mode, or nil for plain text.
    func tlsConfiguration() -> TLSConfiguration? {
        guard tlsMode != .disable, socketPath == nil else { return nil }
        var tls = TLSConfiguration.makeClientConfiguration()
        if let rootCertificate {
            tls.trustRoots = .file(rootCertificate)
            tls.certificateVerification = tlsMode == .verifyFull ? .fullVerification : .noHostnameVerification
        } else {
            // libpq's `require` encrypts without checking whom it talks to; the verify modes check
            // against the system's authorities.
            tls.certificateVerification = switch tlsMode {
            case .verifyFull: .fullVerification
            case .verifyCA: .noHostnameVerification
            default: .none
            }
        }
        return tls
    }

    /// Whether plain text is acceptable when the server does not offer TLS.
    private var tlsOptional: Bool { tlsMode == .allow || tlsMode == .prefer }

    package func clientConfiguration() -> PostgresClient.Configuration {
        if let socketPath {
            return PostgresClient.Configuration(unixSocketPath: socketPath, username: user, password: password, database: database)
        }
        let tls: PostgresClient.Configuration.TLS = switch tlsConfiguration() {
        case nil: .disable
        case let configuration? where tlsOptional: .prefer(configuration)
        case let configuration?: .require(configuration)
        }
        return PostgresClient.Configuration(host: host ?? "", port: port, username: user, password: password, database: database, tls: tls)
    }

    package func connectionConfiguration(timeout: Duration) throws -> PostgresConnection.Configuration {
        var configuration: PostgresConnection.Configuration
        if let socketPath {
            configuration = PostgresConnection.Configuration(unixSocketPath: socketPath, username: user, password: password, database: database)
        } else {
            let tls: PostgresConnection.Configuration.TLS
            if let settings = tlsConfiguration() {
                let context = try NIOSSLContext(configuration: settings)
                tls = tlsOptional ? .prefer(context) : .require(context)
            } else {
                tls = .disable
            }
            configuration = PostgresConnection.Configuration(host: host ?? "", port: port, username: user, password: password,
                                                             database: database, tls: tls)
        }
        configuration.options.connectTimeout = .milliseconds(Int64(timeout.seconds * 1000))
        return configuration
    }

    /// Runs `body` on a connection of its own, closed afterwards whatever happens.
    package func withConnection<T: Sendable>(timeout: Duration, logger: Logger,
                                             _ body: @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        let connection = try await PostgresConnection.connect(configuration: try connectionConfiguration(timeout: timeout), id: 0, logger: logger)
        do {
            let result = try await body(connection)
            try? await connection.close()
            return result
        } catch {
            try? await connection.close()
            throw error
        }
    }
}
