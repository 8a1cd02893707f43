public import WhagoCore
public import CurlHTTP
import Foundation
import ProxyProbe

/// The `static` proxy provider: a fixed list of proxy URLs. With `exclusive: true` (the default)
/// each chip holds one URL of its own and a full list is `capacity_exhausted`; otherwise chips
/// share them, each new chip getting the least used one.
public struct StaticProxy: ProxyProvider {
    /// The registration entry.
    public static let driver = Driver<any ProxyProvider>(
        kind: .proxy, name: "static",
        summary: "a fixed list of proxy URLs, each leased to one chip (or shared round-robin)",
        sampleConfig: StaticProxyConfiguration.sample,
        configuration: StaticProxyConfiguration.self
    ) { configuration, _ in
        StaticProxy(configuration: configuration)
    } proxySchemes: { configuration in
        ProxySchemes(Array(Set(configuration.endpoints.map(\.scheme))).sorted { $0.rawValue < $1.rawValue }, setting: "proxies")
    }

    public var name: String { "static" }
    let configuration: StaticProxyConfiguration
    let http: HTTPClient

    init(configuration: StaticProxyConfiguration, http: HTTPClient = .shared) {
        self.configuration = configuration
        self.http = http
    }

    /// A provider over `proxies` (URLs such as `socks5://user:password@host:port`), for tests and
    /// embedding. Throws `invalid_config` for a URL it cannot read.
    public init(proxies: [Secret], exclusive: Bool = true, probeURL: String? = nil, http: HTTPClient = .shared) throws {
        let endpoints = try proxies.map { url -> ProxyEndpoint in
            do throws(ConfigValueError) { return try ProxyURL.parse(url) } catch { throw WhagoError(.invalidConfig, error.message) }
        }
        self.init(configuration: StaticProxyConfiguration(endpoints: endpoints, exclusive: exclusive, probeURL: probeURL), http: http)
    }

    public func healthCheck() async -> HealthReport {
        .ok("\(configuration.endpoints.count) prox\(configuration.endpoints.count == 1 ? "y" : "ies"), "
            + (configuration.exclusive ? "one chip each" : "shared round-robin")
            + (configuration.probeURL.map { ", checks through \($0)" } ?? ", no probeURL: leases are not checked"))
    }

    public func lease(for chip: ChipID, hints: ProxyHints, leases: any ProxyLeaseStore) async throws -> ProxyLease {
        if let existing = try await leases.lease(of: chip) { return existing }
        let endpoints = configuration.endpoints
        // Only proxies the chip's session software can use.
        let usable = endpoints.indices.filter { hints.accepts(endpoints[$0].scheme) }
        guard !usable.isEmpty else {
            throw WhagoError(.invalidConfig, "none of the \(endpoints.count) proxies of proxy.static.proxies is "
                + hints.schemes.map(\.rawValue).joined(separator: " or ") + ", the protocols the session software can use")
        }
        if configuration.exclusive {
            // The URL's position (from 1) is the lease's sticky port, which the store picks and
            // keeps unique; the usable positions are tried run by run.
            let name = self.name
            for run in Self.runs(usable) {
                do {
                    return try await leases.leaseStickyPort(StickyPortLease(
                        chip: chip, provider: name, ports: try PortRange(run.lowerBound + 1, run.upperBound + 1),
                        endpoint: .listed(Array(endpoints[run]))))
                } catch let error as WhagoError where error.code == .capacityExhausted {
                    continue
                }
            }
            throw WhagoError(.capacityExhausted, "all \(usable.count) usable proxies of proxy.static.proxies are leased (exclusive: true); "
                + "add proxies or delete chips")
        }
        let mine = try await leases.leases(of: name)
        var uses = [Int](repeating: 0, count: endpoints.count)
        for lease in mine {
            if let index = endpoints.firstIndex(where: { Self.sameProxy($0, lease.endpoint) }) { uses[index] += 1 }
        }
        let index = usable.min { uses[$0] < uses[$1] } ?? usable[0]
        let lease = ProxyLease(chip: chip, provider: name, endpoint: endpoints[index])
        do {
            try await leases.insert(lease)
        } catch let error as WhagoError where error.code == .conflict {
            if let existing = try await leases.lease(of: chip) { return existing }
            throw error
        }
        return lease
    }

    /// Consecutive runs of sorted indices: [0, 1, 3] → [0...1, 3...3].
    static func runs(_ indices: [Int]) -> [ClosedRange<Int>] {
        var runs: [ClosedRange<Int>] = []
        for index in indices {
            if let last = runs.last, last.upperBound + 1 == index {
                runs[runs.count - 1] = last.lowerBound...index
            } else {
                runs.append(index...index)
            }
        }
        return runs
    }

    public func release(_ lease: ProxyLease, leases: any ProxyLeaseStore) async throws {
        try await leases.release(chip: lease.chip)
    }

    /// The configured URL the lease points at, with its password.
    public func endpoint(for lease: ProxyLease) -> ProxyEndpoint? {
        configuration.endpoints.first { Self.sameProxy($0, lease.endpoint) }
    }

    /// The same proxy, passwords aside (a lease keeps none).
    private static func sameProxy(_ configured: ProxyEndpoint, _ leased: ProxyEndpoint?) -> Bool {
        guard let leased else { return false }
        return configured.scheme == leased.scheme && configured.host == leased.host && configured.port == leased.port
            && configured.username == leased.username
    }

    public func check(_ lease: ProxyLease) async throws -> ProxyCheck {
        guard let probeURL = configuration.probeURL, let endpoint = endpoint(for: lease) else { return .unchecked }
        return try await ProxyProbe.check(endpoint, probeURL: probeURL, http: http)
    }
}

/// `proxy.static`.
struct StaticProxyConfiguration: DriverConfiguration {
    var endpoints: [ProxyEndpoint]
    var exclusive: Bool
    var probeURL: String?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case proxies, exclusive, probeURL
    }

    init(endpoints: [ProxyEndpoint], exclusive: Bool, probeURL: String?) {
        self.endpoints = endpoints
        self.exclusive = exclusive
        self.probeURL = probeURL
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let proxies = try container.decode([Secret].self, forKey: .proxies)
        guard !proxies.isEmpty else { throw ConfigValueError("'proxies' must list at least one proxy URL") }
        endpoints = try proxies.map { try ProxyURL.parse($0) }
        exclusive = try container.decodeIfPresent(Bool.self, forKey: .exclusive) ?? true
        probeURL = try container.decodeIfPresent(NonEmptyString.self, forKey: .probeURL)?.value
        if let probeURL, !(probeURL.hasPrefix("http://") || probeURL.hasPrefix("https://")) {
            throw ConfigValueError("'probeURL' must be an http:// or https:// URL")
        }
    }

    static let sample = """
        static:
          proxies:                       # URLs with credentials: secrets (use ${ENV} or file:)
            - socks5h://user:${PROXY_PASSWORD}@proxy1.example.net:1080
            - http://user:${PROXY_PASSWORD}@proxy2.example.net:8080
          exclusive: true                # each chip gets its own proxy; false: chips share them round-robin
          # probeURL: https://api.ipify.org   # checks go through the proxy to this URL; none: nothing is checked
        """
}

/// `scheme://[user[:password]@]host:port`, credentials percent-decoded.
enum ProxyURL {
    static func parse(_ secret: Secret) throws(ConfigValueError) -> ProxyEndpoint {
        let text = secret.revealed
        guard let schemeEnd = text.range(of: "://") else {
            throw ConfigValueError("a proxy URL must look like socks5://user:password@host:port (the scheme is missing)")
        }
        guard let scheme = ProxyEndpoint.Scheme(rawValue: text[..<schemeEnd.lowerBound].lowercased()) else {
            throw ConfigValueError("a proxy URL's scheme must be socks5, socks5h, http or https")
        }
        var rest = text[schemeEnd.upperBound...]
        if rest.hasSuffix("/") { rest = rest.dropLast() }
        var username: String?
        var password: Secret?
        if let at = rest.lastIndex(of: "@") {
            let credentials = rest[..<at]
            rest = rest[rest.index(after: at)...]
            let parts = credentials.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
            username = String(parts[0]).removingPercentEncoding ?? String(parts[0])
            if parts.count == 2 { password = Secret(String(parts[1]).removingPercentEncoding ?? String(parts[1])) }
        }
        guard let colon = rest.lastIndex(of: ":"), let port = Int(rest[rest.index(after: colon)...]), (1...65535).contains(port) else {
            throw ConfigValueError("a proxy URL must end with host:port (the port is missing or invalid)")
        }
        let host = rest[..<colon].trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        guard !host.isEmpty else { throw ConfigValueError("a proxy URL must name a host") }
        return ProxyEndpoint(scheme: scheme, host: host, port: port, username: username, password: password)
    }
}
