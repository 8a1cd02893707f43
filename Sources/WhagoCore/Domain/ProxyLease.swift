public import Foundation

/// A proxy a session connects through. Its password is a ``Secret``.
public struct ProxyEndpoint: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The proxy protocol.
    public enum Scheme: String, Sendable, Hashable, Codable, CaseIterable {
        /// SOCKS5, the proxy resolving host names.
        case socks5h
        /// SOCKS5, the client resolving host names.
        case socks5
        case http
        case https
    }

    public var scheme: Scheme
    public var host: String
    public var port: Int
    public var username: String?
    public var password: Secret?

    public init(scheme: Scheme, host: String, port: Int, username: String? = nil, password: Secret? = nil) {
        self.scheme = scheme
        self.host = host
        self.port = port
        self.username = username
        self.password = password
    }

    /// `scheme://[user@]host:port`, never the password.
    public var description: String {
        "\(scheme.rawValue)://\(username.map { "\($0)@" } ?? "")\(host):\(port)"
    }
}

/// A sticky proxy endpoint held by exactly one chip.
///
/// A lease never holds the provider's password: its ``endpoint`` is kept without one (whatever it
/// was given, and whatever an old record held), and the provider rebuilds the whole endpoint from
/// its configuration when a session needs it (`ProxyProvider.endpoint(for:)`).
public struct ProxyLease: Sendable, Hashable, Codable {
    public var chip: ChipID
    /// The name of the proxy driver that issued the lease.
    public var provider: String
    /// Where to connect, without the password; `nil` means a direct connection (the `none` driver).
    public var endpoint: ProxyEndpoint? {
        didSet { endpoint?.password = nil }
    }
    /// The provider's sticky port (DataImpulse) that identifies the exit IP; unique among leases.
    public var stickyPort: Int?
    public var leasedAt: Date

    public init(chip: ChipID, provider: String, endpoint: ProxyEndpoint?, stickyPort: Int? = nil, leasedAt: Date = Date()) {
        self.chip = chip
        self.provider = provider
        self.endpoint = endpoint.map { endpoint in
            var endpoint = endpoint
            endpoint.password = nil
            return endpoint
        }
        self.stickyPort = stickyPort
        self.leasedAt = leasedAt
    }

    enum CodingKeys: String, CodingKey {
        case chip, provider, endpoint, stickyPort, leasedAt
    }

    /// A record written when leases kept the password loses it on reading.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(chip: try container.decode(ChipID.self, forKey: .chip), provider: try container.decode(String.self, forKey: .provider),
                  endpoint: try container.decodeIfPresent(ProxyEndpoint.self, forKey: .endpoint),
                  stickyPort: try container.decodeIfPresent(Int.self, forKey: .stickyPort),
                  leasedAt: try container.decode(Date.self, forKey: .leasedAt))
    }
}
