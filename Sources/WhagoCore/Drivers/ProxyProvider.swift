import Foundation

/// Hands out sticky proxies: one per chip, so a WhatsApp number keeps one exit IP.
///
/// # Implementation requirements
/// - ``lease(for:hints:leases:)`` records the lease **atomically with the choice** (the store
///   enforces one chip per sticky port: ``ProxyLeaseStore/leaseStickyPort(_:)``), so two concurrent
///   calls never hand out the same endpoint and a crash never leaves a lease the store does not
///   know. Leasing for a chip that already holds a lease returns that lease (idempotent).
/// - ``release(_:leases:)`` removes the lease; releasing twice succeeds.
/// - A provider sees the leases, never the rest of whago's state (``ProxyLeaseStore``).
/// - ``check(_:)`` really connects through the proxy; it is not a configuration check.
/// - A lease keeps no password; ``endpoint(for:)`` gives it back from the configuration.
/// - Errors are ``WhagoError``s: `capacity_exhausted` (no sticky port left), `unavailable`
///   (the proxy could not be reached), `unauthorized` (the provider refused the credentials).
///   A password never appears in an error or a log.
public protocol ProxyProvider: WhagoDriver {
    /// The driver's name, recorded in every lease it issues.
    var name: String { get }
    /// Leases a proxy for the chip, or returns the one it already holds.
    func lease(for chip: ChipID, hints: ProxyHints, leases: any ProxyLeaseStore) async throws -> ProxyLease
    /// Gives a chip's proxy back.
    func release(_ lease: ProxyLease, leases: any ProxyLeaseStore) async throws
    /// The lease's endpoint with its credentials, rebuilt from the configuration (leases never
    /// keep a password); nil for a direct connection.
    func endpoint(for lease: ProxyLease) -> ProxyEndpoint?
    /// Connects through the proxy and reports what it saw.
    func check(_ lease: ProxyLease) async throws -> ProxyCheck
    /// The exit country a chip gets when it asks for none (ISO 3166-1 alpha-2, lower case), or
    /// nil when the provider has no notion of country.
    var defaultCountry: String? { get }
}

extension ProxyProvider {
    public var defaultCountry: String? { nil }
}

/// Preferences for a new lease.
public struct ProxyHints: Sendable, Hashable {
    /// ISO 3166 country code the exit IP should be in, when the provider supports it.
    public var country: String?
    /// City the exit IP should be in, when the provider supports it (lower case, e.g. `saopaulo`).
    public var city: String?
    public var tenant: TenantID?
    /// The protocols the chip's session software can use, most preferred first
    /// (``SessionProvider/proxySchemes``): a lease is one of them. Empty: any.
    public var schemes: [ProxyEndpoint.Scheme]

    public init(country: String? = nil, city: String? = nil, tenant: TenantID? = nil, schemes: [ProxyEndpoint.Scheme] = []) {
        self.country = country
        self.city = city
        self.tenant = tenant
        self.schemes = schemes
    }

    /// Whether a lease of `scheme` fits.
    public func accepts(_ scheme: ProxyEndpoint.Scheme) -> Bool { schemes.isEmpty || schemes.contains(scheme) }
}

/// What a driver says of proxy protocols in its configuration, so that a configuration whose proxy
/// driver can hand out none that its session software can use is refused where it is written: a
/// sessions driver, the protocols it can use; a proxy driver, those it can hand out.
public struct ProxySchemes: Sendable, Hashable {
    /// The protocols.
    public var schemes: [ProxyEndpoint.Scheme]
    /// The key of the driver's section that decides them (e.g. `engine`, `protocol`, `proxies`).
    public var setting: String
    /// Why, in a few words (e.g. `GOWS builds http://user:password@server`).
    public var reason: String?

    public init(_ schemes: [ProxyEndpoint.Scheme], setting: String, reason: String? = nil) {
        self.schemes = schemes
        self.setting = setting
        self.reason = reason
    }
}

/// What a connection through a proxy found.
public struct ProxyCheck: Sendable, Hashable {
    /// `false` when nothing was sent: the provider has no probe URL configured (or no proxy).
    public var checked: Bool
    /// The public IP address seen through the proxy, when the probe URL returns one.
    public var exitIP: String?
    public var latency: Duration

    public init(checked: Bool = true, exitIP: String?, latency: Duration) {
        self.checked = checked
        self.exitIP = exitIP
        self.latency = latency
    }

    /// Nothing was sent: there is nothing to check, or no probe URL to check with.
    public static let unchecked = ProxyCheck(checked: false, exitIP: nil, latency: .zero)
}
