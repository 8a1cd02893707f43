/// An HTTP request, over TCP or a unix socket, directly or through a proxy.
public struct HTTPClientRequest: Sendable {
    /// The request method.
    public struct Method: RawRepresentable, Sendable, Hashable, ExpressibleByStringLiteral, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public init(stringLiteral value: String) { self.rawValue = value }
        public var description: String { rawValue }

        public static let get: Self = "GET"
        public static let head: Self = "HEAD"
        public static let post: Self = "POST"
        public static let put: Self = "PUT"
        public static let patch: Self = "PATCH"
        public static let delete: Self = "DELETE"
    }

    public var method: Method
    /// An absolute URL. Over a unix socket the host part is only what goes into `Host:`
    /// (`http://localhost/v1.47/containers/json`).
    public var url: String
    /// Header fields in order; repeated names are sent repeatedly.
    public var headers: [(name: String, value: String)]
    /// The request body, sent with its length.
    public var body: [UInt8]?
    /// The whole transfer's time limit; `nil` uses the client's default.
    public var timeout: Duration?
    /// The time limit to connect (including a proxy handshake); `nil` uses the client's default.
    public var connectTimeout: Duration?
    /// Connect to this unix socket instead of the URL's host (Docker: `/var/run/docker.sock`).
    /// Proxies do not apply to unix sockets.
    public var unixSocketPath: String?
    /// Send the request through this proxy.
    public var proxy: HTTPProxy?
    /// The most body bytes accepted; `nil` uses the client's default (16 MiB).
    public var maxBodySize: Int?
    /// Certificates for an `https` URL: whom to trust, and who this client is.
    public var tls: TLSFiles?
    /// Asked for every address libcurl is about to connect to (4 or 16 bytes, network order),
    /// after it resolved the name and before any packet is sent: false refuses it, and a request
    /// left with no address it may use fails as ``HTTPClientError/Kind/addressNotAllowed``. The
    /// address checked is the one connected to, so a name that resolves differently later (DNS
    /// rebinding) cannot slip past. Called on the client's loop thread: keep it quick.
    public var allowsAddress: (@Sendable (_ address: [UInt8]) -> Bool)?

    public init(
        _ method: Method = .get, _ url: String, headers: [(name: String, value: String)] = [], body: [UInt8]? = nil,
        timeout: Duration? = nil, connectTimeout: Duration? = nil, unixSocketPath: String? = nil,
        proxy: HTTPProxy? = nil, maxBodySize: Int? = nil
    ) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.timeout = timeout
        self.connectTimeout = connectTimeout
        self.unixSocketPath = unixSocketPath
        self.proxy = proxy
        self.maxBodySize = maxBodySize
    }

    /// Adds a header field.
    public mutating func addHeader(_ name: String, _ value: String) {
        headers.append((name, value))
    }

    /// Why the request must not be sent, or nil. URLs may come from tenants (webhook URLs), so
    /// only `http` and `https` are spoken (a unix socket is chosen by ``unixSocketPath``, never by
    /// the URL), and a header that could smuggle a second header or request is refused.
    var validationError: HTTPClientError? {
        let scheme = url.prefix { $0 != ":" }.lowercased()
        guard url.contains("://"), scheme == "http" || scheme == "https" else {
            return HTTPClientError(.invalidRequest, message: "only http and https URLs are allowed (got scheme '\(scheme.prefix(16))')")
        }
        let splitting: (UInt8) -> Bool = { $0 == 13 || $0 == 10 || $0 == 0 }
        for (name, value) in headers {
            guard !name.isEmpty, !name.utf8.contains(where: { splitting($0) || $0 == UInt8(ascii: ":") || $0 <= 32 || $0 >= 127 }) else {
                return HTTPClientError(.invalidRequest, message: "a header name is not a valid field name (\(name.utf8.count) bytes)")
            }
            guard !value.utf8.contains(where: splitting) else {
                return HTTPClientError(.invalidRequest, message: "the value of header '\(name)' contains CR, LF or NUL")
            }
        }
        return nil
    }
}

/// PEM files for TLS: the authorities the server's certificate must chain to (instead of the
/// system's), and a client certificate with its key (mutual TLS, as Docker's `--tlsverify` wants).
public struct TLSFiles: Sendable, Hashable {
    public var certificateAuthority: String?
    public var certificate: String?
    public var key: String?

    public init(certificateAuthority: String? = nil, certificate: String? = nil, key: String? = nil) {
        self.certificateAuthority = certificateAuthority
        self.certificate = certificate
        self.key = key
    }
}

/// A proxy to send a request through. Credentials are given as they are — special characters
/// (`@`, `:`, `/`, `%`) need no escaping by the caller — and never appear in errors.
public struct HTTPProxy: Sendable, Hashable, CustomStringConvertible {
    /// The proxy protocol.
    public enum Scheme: String, Sendable, Hashable {
        /// SOCKS5 with host names resolved by the proxy (what residential proxies expect).
        case socks5h
        /// SOCKS5 with host names resolved locally.
        case socks5
        case http
        case https
    }

    public var scheme: Scheme
    public var host: String
    public var port: Int
    public var username: String?
    public var password: String?

    public init(_ scheme: Scheme, host: String, port: Int, username: String? = nil, password: String? = nil) {
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

    var url: String {
        let shownHost = host.contains(":") ? "[\(host)]" : host
        return "\(scheme.rawValue)://\(shownHost):\(port)"
    }
}
