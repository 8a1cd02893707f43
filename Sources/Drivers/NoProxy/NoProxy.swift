public import WhagoCore

/// The `none` proxy provider: sessions connect directly, through the worker's own network.
///
/// Every chip still gets a lease (with no endpoint), so the orchestrator handles all providers alike.
public struct NoProxy: ProxyProvider {
    /// The registration entry.
    public static let driver = Driver<any ProxyProvider>(
        kind: .proxy, name: "none", aliases: ["direct"],
        summary: "no proxy: sessions connect directly (development, or when the host's IP is fine)",
        sampleConfig: "none: {}   # takes no settings",
        configuration: NoProxyConfiguration.self
    ) { _, _ in
        NoProxy()
    }

    public var name: String { "none" }

    public init() {}

    public func healthCheck() async -> HealthReport {
        .ok("no proxy: sessions connect directly")
    }

    public func lease(for chip: ChipID, hints: ProxyHints, leases: any ProxyLeaseStore) async throws -> ProxyLease {
        if let existing = try await leases.lease(of: chip) { return existing }
        let lease = ProxyLease(chip: chip, provider: name, endpoint: nil)
        do {
            try await leases.insert(lease)
        } catch let error as WhagoError where error.code == .conflict {
            // Leased meanwhile by a concurrent call for the same chip: that lease is the chip's.
            if let existing = try await leases.lease(of: chip) { return existing }
            throw error
        }
        return lease
    }

    public func release(_ lease: ProxyLease, leases: any ProxyLeaseStore) async throws {
        try await leases.release(chip: lease.chip)
    }

    /// A direct connection: no endpoint.
    public func endpoint(for lease: ProxyLease) -> ProxyEndpoint? { nil }

    /// Nothing to go through, so nothing is sent.
    public func check(_ lease: ProxyLease) async throws -> ProxyCheck {
        .unchecked
    }
}

/// `proxy.none`: no settings.
struct NoProxyConfiguration: DriverConfiguration {
    init(from decoder: any Decoder) throws {
        // Opening the mapping with no known key makes every key in it an error.
        _ = try decoder.container(keyedBy: ConfigKey.self)
    }
}
