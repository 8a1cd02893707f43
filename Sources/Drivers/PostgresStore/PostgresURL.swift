import Foundation
import NIOCore
import PostgresNIO
import WhagoCore

/// `postgres://user:password@host:port/database?sslmode=disable|require&host=/unix/socket/dir`.
struct PostgresURL: Sendable {
    var host: String?
    var port: Int
    var socketPath: String?
    var user: String
    var password: String?
    var database: String?
    var requireTLS: Bool

    /// Where it points, without credentials: for errors and logs.
    var endpoint: String { socketPath ?? "\(host ?? "?"):\(port)" }

    static func parse(_ url: String) throws -> PostgresURL {
        let invalid = WhagoError(.invalidConfig, "store.postgres.url must look like postgres://user:password@host:5432/database")
        guard let components = URLComponents(string: url), ["postgres", "postgresql"].contains(components.scheme ?? "") else { throw invalid }
        let query = Dictionary((components.queryItems ?? []).map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { $1 })
        guard let user = components.user.flatMap({ $0.removingPercentEncoding }), !user.isEmpty else { throw invalid }
        let port = components.port ?? 5432
        var parsed = PostgresURL(host: components.host, port: port, socketPath: nil, user: user,
                                 password: components.password.flatMap { $0.removingPercentEncoding },
                                 database: components.path.split(separator: "/").first.map(String.init),
                                 requireTLS: !["disable", "allow", "prefer"].contains(query["sslmode"] ?? "disable"))
        if let socketDirectory = query["host"], socketDirectory.hasPrefix("/") {
            parsed.socketPath = "\(socketDirectory)/.s.PGSQL.\(port)"
        } else if (parsed.host ?? "").isEmpty {
            throw invalid
        }
        return parsed
    }

    func clientConfiguration() -> PostgresClient.Configuration {
        if let socketPath {
            return PostgresClient.Configuration(unixSocketPath: socketPath, username: user, password: password, database: database)
        }
        return PostgresClient.Configuration(host: host ?? "", port: port, username: user, password: password, database: database,
                                            tls: requireTLS ? .require(.makeClientConfiguration()) : .disable)
    }

    func connectionConfiguration(timeout: Duration) throws -> PostgresConnection.Configuration {
        var configuration: PostgresConnection.Configuration
        if let socketPath {
            configuration = PostgresConnection.Configuration(unixSocketPath: socketPath, username: user, password: password, database: database)
        } else {
            configuration = PostgresConnection.Configuration(host: host ?? "", port: port, username: user, password: password, database: database,
                                                             tls: requireTLS ? .require(try .init(configuration: .makeClientConfiguration())) : .disable)
        }
        configuration.options.connectTimeout = .milliseconds(Int64(timeout.seconds * 1000))
        return configuration
    }
}
