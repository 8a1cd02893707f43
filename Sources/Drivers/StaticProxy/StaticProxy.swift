public import WhagoCore

/// The `static` proxy provider: a fixed list of proxy URLs, one per chip.
///
/// Registered now so that configurations selecting it are validated; starting whago with it fails
/// clearly until the driver is built.
public enum StaticProxy {
    /// The registration entry.
    public static let driver = Driver<any ProxyProvider>(
        kind: .proxy, name: "static",
        summary: "a fixed list of proxy URLs, each leased to one chip",
        sampleConfig: StaticProxyConfiguration.sample,
        configuration: StaticProxyConfiguration.self
    ) { _, _ in
        throw WhagoError.driverNotImplemented("static")
    }
}

/// `proxy.static`.
struct StaticProxyConfiguration: DriverConfiguration {
    /// `socks5h://user:password@host:port` and the like; they hold passwords, so they are secrets.
    var proxies: [Secret]
    var probeURL: String?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case proxies, probeURL
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        proxies = try container.decode([Secret].self, forKey: .proxies)
        guard !proxies.isEmpty else { throw ConfigValueError("'proxies' must list at least one proxy URL") }
        probeURL = try container.decodeIfPresent(String.self, forKey: .probeURL)
    }

    static let sample = """
        static:
          proxies:                       # each chip gets one of these, never shared
            - socks5h://user:${PROXY_PASSWORD}@proxy1.example.net:1080
            - http://user:${PROXY_PASSWORD}@proxy2.example.net:8080
          # probeURL: https://api.ipify.org   # what `whago doctor` fetches through a proxy
        """
}
