public import WhagoCore

/// The `dataimpulse` proxy provider: DataImpulse residential proxies, one sticky port per chip.
///
/// Registered now so that configurations selecting it are validated; starting whago with it fails
/// clearly until the driver is built.
public enum DataImpulseProxy {
    /// The registration entry.
    public static let driver = Driver<any ProxyProvider>(
        kind: .proxy, name: "dataimpulse",
        summary: "DataImpulse residential proxies (SOCKS5 or HTTP), one sticky port per chip",
        sampleConfig: DataImpulseConfiguration.sample,
        configuration: DataImpulseConfiguration.self
    ) { _, _ in
        throw WhagoError.driverNotImplemented("dataimpulse")
    }
}

/// `proxy.dataimpulse`.
struct DataImpulseConfiguration: DriverConfiguration {
    enum ProxyProtocol: String, Decodable, CaseIterable {
        case socks5, http
    }

    var gateway: String
    var `protocol`: ProxyProtocol
    var login: String
    var password: Secret
    var country: String?
    var stickyPorts: PortRange
    var probeURL: String?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case gateway, `protocol`, login, password, country, stickyPorts, probeURL
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        gateway = try container.decodeIfPresent(NonEmptyString.self, forKey: .gateway)?.value ?? "gw.dataimpulse.com"
        `protocol` = try container.decodeIfPresent(ProxyProtocol.self, forKey: .protocol) ?? .socks5
        login = try container.decode(NonEmptyString.self, forKey: .login).value
        password = try container.decode(Secret.self, forKey: .password)
        country = try container.decodeIfPresent(CountryCode.self, forKey: .country)?.code
        stickyPorts = try container.decodeIfPresent(PortRange.self, forKey: .stickyPorts) ?? PortRange("10000-20000")!
        probeURL = try container.decodeIfPresent(String.self, forKey: .probeURL)
    }

    static let sample = """
        dataimpulse:
          gateway: gw.dataimpulse.com    # DataImpulse's gateway host
          protocol: socks5               # socks5 or http
          login: ${DATAIMPULSE_LOGIN}
          password: file:${DATAIMPULSE_PASSWORD_FILE:-/run/secrets/dataimpulse}
          country: br                    # exit country (ISO 3166 two letters), optional
          stickyPorts: 10000-20000       # one sticky port (one exit IP) per chip
          # probeURL: https://api.ipify.org   # what `whago doctor` fetches through the proxy
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
