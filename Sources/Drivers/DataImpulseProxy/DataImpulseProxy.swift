public import WhagoCore
public import CurlHTTP
import Foundation
import ProxyProbe

/// The `dataimpulse` proxy provider: DataImpulse residential proxies, one sticky port per chip.
///
/// DataImpulse's gateway speaks HTTP and SOCKS5 on every sticky port: a chip gets the protocol
/// `protocol` names, else the one its session software prefers (WAHA's engines take HTTP).
///
/// A sticky port is one exit IP: each chip holds one port of `stickyPorts` as its proxy lease in
/// the store, so it keeps its IP across restarts of whago and of its worker, and gives it back when
/// it is deleted. The login carries the chip's parameters, `<login>__cr.<country>[;city.<city>][;sessttl.<minutes>]`.
///
/// What a worker learns: WAHA must be given the proxy's login and password to use it, so the
/// worker (untrusted third-party code) holds them, and with them could use any sticky port of
/// that DataImpulse user. `tenantLogins` narrows that to one tenant: each tenant's chips go
/// through a DataImpulse sub-user of its own, so a worker only ever holds its own tenant's
/// credentials (workers are never shared between tenants).
public struct DataImpulseProxy: ProxyProvider {
    /// The registration entry.
    public static let driver = Driver<any ProxyProvider>(
        kind: .proxy, name: "dataimpulse",
        summary: "DataImpulse residential proxies (SOCKS5 or HTTP), one sticky port per chip",
        sampleConfig: DataImpulseConfiguration.sample,
        configuration: DataImpulseConfiguration.self
    ) { configuration, _ in
        DataImpulseProxy(configuration: configuration)
    } proxySchemes: { configuration in
        ProxySchemes(configuration.protocol.map { [$0.scheme] } ?? [.http, .socks5h], setting: "protocol")
    }

    public var name: String { "dataimpulse" }
    /// `proxy.dataimpulse.country`.
    public var defaultCountry: String? { configuration.country }
    let configuration: DataImpulseConfiguration
    let http: HTTPClient

    init(configuration: DataImpulseConfiguration, http: HTTPClient = .shared) {
        self.configuration = configuration
        self.http = http
    }

    /// A provider for tests and embedding; the other settings are `proxy.dataimpulse`'s defaults.
    /// - Parameter protocol: `http` or `socks5`; nil: the one the session software prefers.
    public init(gateway: String, login: String, password: Secret, protocol: String? = nil, country: String = "br",
                city: String? = nil, sessionTTL: Duration? = nil, stickyPorts: PortRange, probeURL: String? = nil,
                checkOnLease: Bool = true, tenantLogins: [TenantID: (login: String, password: Secret)] = [:], http: HTTPClient = .shared) {
        var configuration = DataImpulseConfiguration(login: login, password: password, stickyPorts: stickyPorts)
        configuration.tenantLogins = Dictionary(uniqueKeysWithValues: tenantLogins.map {
            ($0.key.rawValue, DataImpulseConfiguration.Account(login: $0.value.login, password: $0.value.password))
        })
        configuration.gateway = gateway
        configuration.protocol = `protocol`.flatMap(DataImpulseConfiguration.ProxyProtocol.init(rawValue:))
        configuration.country = country
        configuration.city = city
        configuration.sessionTTL = sessionTTL.map(TimeSpan.init)
        configuration.probeURL = probeURL
        configuration.checkOnLease = checkOnLease
        self.init(configuration: configuration, http: http)
    }

    public func healthCheck() async -> HealthReport {
        let probe = configuration.probeURL.map { "checks through \($0)" } ?? "no probeURL: leases are not checked"
        let scheme = configuration.protocol?.rawValue ?? "http or socks5, as the session software takes,"
        return .ok("\(scheme) \(configuration.gateway), sticky ports \(configuration.stickyPorts), "
                   + "country \(configuration.country), \(probe)")
    }

    // MARK: Leases

    public func lease(for chip: ChipID, hints: ProxyHints, leases: any ProxyLeaseStore) async throws -> ProxyLease {
        if let existing = try await leases.lease(of: chip) { return existing }
        let username = self.username(login: configuration.account(for: hints.tenant).login, country: hints.country, city: hints.city)
        let name = self.name
        let range = configuration.stickyPorts
        let scheme = self.scheme(for: hints)
        let lease: ProxyLease
        do {
            // The store picks the lowest free port and records the lease in one change.
            // Each sticky port is an exit IP: the endpoint is the gateway on the leased port.
            lease = try await leases.leaseStickyPort(StickyPortLease(
                chip: chip, provider: name, ports: range,
                endpoint: .atPort(endpoint(scheme: scheme, port: range.lowerBound, username: username, password: nil))))
        } catch let error as WhagoError where error.code == .capacityExhausted {
            throw WhagoError(.capacityExhausted, "all \(range.count) sticky ports of proxy.dataimpulse.stickyPorts (\(range)) are leased; "
                + "widen the range or delete chips")
        }
        if configuration.checkOnLease, configuration.probeURL != nil {
            do {
                _ = try await check(lease)
            } catch {
                try? await leases.release(chip: chip)
                throw error
            }
        }
        return lease
    }

    public func release(_ lease: ProxyLease, leases: any ProxyLeaseStore) async throws {
        try await leases.release(chip: lease.chip)
    }

    /// The lease's endpoint with the password of the account its login belongs to.
    public func endpoint(for lease: ProxyLease) -> ProxyEndpoint? {
        guard var endpoint = lease.endpoint else { return nil }
        // `<login>__<parameters>`: the login says which account's password goes with it.
        let login = endpoint.username?.components(separatedBy: "__").first ?? ""
        endpoint.password = configuration.tenantLogins.values.first { $0.login == login }?.password ?? configuration.password
        return endpoint
    }

    public func check(_ lease: ProxyLease) async throws -> ProxyCheck {
        guard let probeURL = configuration.probeURL, let endpoint = endpoint(for: lease) else { return .unchecked }
        return try await ProxyProbe.check(endpoint, probeURL: probeURL, http: http)
    }

    // MARK: Endpoints

    /// `<login>__cr.<country>[;city.<city>][;sessttl.<minutes>]`.
    func username(login: String? = nil, country: String?, city: String? = nil) -> String {
        var parameters = ["cr.\((country ?? configuration.country).lowercased())"]
        if let city = city ?? configuration.city { parameters.append("city.\(city)") }
        if let ttl = configuration.sessionTTL {
            parameters.append("sessttl.\(max(1, Int(ttl.duration.components.seconds / 60)))")
        }
        return "\(login ?? configuration.login)__\(parameters.joined(separator: ";"))"
    }

    /// The protocol of a new lease: the configured one, else the first of the session software's
    /// that the gateway speaks (HTTP when it says nothing).
    func scheme(for hints: ProxyHints) -> ProxyEndpoint.Scheme {
        if let configured = configuration.protocol { return configured.scheme }
        let spoken: [ProxyEndpoint.Scheme] = [.http, .socks5h, .socks5]
        return hints.schemes.first(where: spoken.contains).map { $0 == .socks5 ? .socks5h : $0 } ?? .http
    }

    private func endpoint(scheme: ProxyEndpoint.Scheme, port: Int, username: String, password: Secret?) -> ProxyEndpoint {
        ProxyEndpoint(scheme: scheme, host: configuration.gateway, port: port, username: username, password: password)
    }
}

/// `proxy.dataimpulse`.
struct DataImpulseConfiguration: DriverConfiguration {
    enum ProxyProtocol: String, Decodable, CaseIterable, Sendable {
        case socks5, http

        /// SOCKS5 with the proxy resolving names: the exit, not whago's host, looks WhatsApp up.
        var scheme: ProxyEndpoint.Scheme { self == .socks5 ? .socks5h : .http }
    }

    var gateway: String
    /// nil: the protocol the session software prefers (the gateway speaks both on every port).
    var `protocol`: ProxyProtocol?
    var login: String
    var password: Secret
    var country: String
    var city: String?
    var sessionTTL: TimeSpan?
    var stickyPorts: PortRange
    var probeURL: String?
    var checkOnLease: Bool
    /// A DataImpulse sub-user per tenant, by tenant id: that tenant's chips (and so its workers)
    /// get these credentials instead of `login`/`password`.
    var tenantLogins: [String: Account]

    /// A DataImpulse login and its password.
    struct Account: Decodable, Sendable {
        var login: String
        var password: Secret

        enum CodingKeys: String, CodingKey, CaseIterable {
            case login, password
        }

        init(login: String, password: Secret) {
            self.login = login
            self.password = password
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            login = try container.decode(NonEmptyString.self, forKey: .login).value
            password = try container.decode(Secret.self, forKey: .password)
        }
    }

    /// The credentials a tenant's chips use.
    func account(for tenant: TenantID?) -> Account {
        tenant.flatMap { tenantLogins[$0.rawValue] } ?? Account(login: login, password: password)
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case gateway, `protocol`, login, password, country, city, sessionTTL, stickyPorts, probeURL, checkOnLease, tenantLogins
    }

    init(login: String, password: Secret, stickyPorts: PortRange) {
        gateway = "gw.dataimpulse.com"
        `protocol` = nil
        self.login = login
        self.password = password
        country = "br"
        self.stickyPorts = stickyPorts
        checkOnLease = true
        tenantLogins = [:]
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(login: try container.decode(NonEmptyString.self, forKey: .login).value,
                  password: try container.decode(Secret.self, forKey: .password),
                  stickyPorts: try container.decodeIfPresent(PortRange.self, forKey: .stickyPorts) ?? PortRange("10000-20000")!)
        gateway = try container.decodeIfPresent(NonEmptyString.self, forKey: .gateway)?.value ?? gateway
        `protocol` = try container.decodeIfPresent(ProxyProtocol.self, forKey: .protocol)
        country = try container.decodeIfPresent(CountryCode.self, forKey: .country)?.code ?? country
        city = try container.decodeIfPresent(NonEmptyString.self, forKey: .city)?.value
        if let city, !city.allSatisfy({ $0.isLetter || $0 == "_" }) {
            throw ConfigValueError("'city' must be DataImpulse's city name in letters (e.g. saopaulo), not '\(city)'")
        }
        sessionTTL = try container.decodeIfPresent(TimeSpan.self, forKey: .sessionTTL)
        if let ttl = sessionTTL, ttl.duration < .seconds(60) {
            throw ConfigValueError("'sessionTTL' is counted in minutes by DataImpulse: give at least 1m")
        }
        probeURL = try container.decodeIfPresent(NonEmptyString.self, forKey: .probeURL)?.value
        if let probeURL, !(probeURL.hasPrefix("http://") || probeURL.hasPrefix("https://")) {
            throw ConfigValueError("'probeURL' must be an http:// or https:// URL")
        }
        checkOnLease = try container.decodeIfPresent(Bool.self, forKey: .checkOnLease) ?? true
        tenantLogins = try container.decodeIfPresent([String: Account].self, forKey: .tenantLogins) ?? [:]
    }

    static let sample = """
        dataimpulse:
          gateway: gw.dataimpulse.com    # DataImpulse's gateway host
          # protocol: http               # http or socks5; default: what the session software takes (WAHA: http)
          login: ${DATAIMPULSE_LOGIN}
          password: file:${DATAIMPULSE_PASSWORD_FILE:-/run/secrets/dataimpulse}
          country: br                    # default exit country (ISO 3166 two letters); a chip may ask for another
          # city: saopaulo               # optional (DataImpulse bills city targeting at 2x)
          # sessionTTL: 60m              # optional: how long a sticky port keeps its IP
          stickyPorts: 10000-20000       # one sticky port (one exit IP) per chip
          # probeURL: https://api.ipify.org   # checks go through the proxy to this URL; none: nothing is checked
          checkOnLease: true             # check a new lease through the proxy (when probeURL is set)
          # Workers must hold the proxy's password to use it. A DataImpulse sub-user per tenant keeps
          # each tenant's workers to that tenant's credentials:
          # tenantLogins:
          #   acme: { login: ${DI_ACME_LOGIN}, password: file:/run/secrets/dataimpulse-acme }
        """
}

/// A two-letter ISO 3166 country code, lower-cased.
struct CountryCode: Decodable {
    let code: String

    init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard text.count == 2, text.allSatisfy({ $0.isASCII && $0.isLetter }) else {
            throw ConfigValueError("expected a two-letter country code such as br or us, found '\(text)'")
        }
        code = text.lowercased()
    }
}
