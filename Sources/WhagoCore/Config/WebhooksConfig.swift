/// `webhooks:` — delivery of chip events to tenants' webhook URLs.
///
/// ```yaml
/// webhooks:
///   maxAttempts: 12          # then the event is dead-lettered (GET /api/v1/dead-letters)
///   initialBackoff: 1s       # wait after the first failure; doubled after each next one (with jitter) …
///   maxBackoff: 10m          # … up to this
///   timeout: 10s             # one delivery attempt
///   pollInterval: 250ms      # how often the outbox is looked at
///   concurrency: 16          # deliveries in flight at once (each chip's events stay in order)
///   perTenantConcurrency: 4  # of which one tenant's at most: a slow endpoint cannot hold the rest
///   allowPrivateNetworks: false   # deliver only to public addresses …
///   allowedNetworks: []      # … and to these networks (e.g. [10.20.0.0/16])
/// ```
public struct WebhooksConfig: Decodable, Sendable, Hashable {
    public var maxAttempts: Int
    public var initialBackoff: TimeSpan
    public var maxBackoff: TimeSpan
    public var timeout: TimeSpan
    public var pollInterval: TimeSpan
    public var concurrency: Int
    /// Deliveries of one tenant in flight at once (at most ``concurrency``).
    public var perTenantConcurrency: Int
    /// Whether webhook URLs may reach loopback, private, link-local and other non-public
    /// addresses (SSRF: off by default; the embedded development config turns it on).
    public var allowPrivateNetworks: Bool
    /// Networks webhook URLs may reach besides public addresses.
    public var allowedNetworks: [NetworkRange]

    enum CodingKeys: String, CodingKey, CaseIterable {
        case maxAttempts, initialBackoff, maxBackoff, timeout, pollInterval, concurrency, perTenantConcurrency, allowPrivateNetworks,
             allowedNetworks
    }

    public init(maxAttempts: Int = 12, initialBackoff: TimeSpan = .seconds(1), maxBackoff: TimeSpan = .seconds(600),
                timeout: TimeSpan = .seconds(10), pollInterval: TimeSpan = .milliseconds(250), concurrency: Int = 16,
                perTenantConcurrency: Int? = nil, allowPrivateNetworks: Bool = false, allowedNetworks: [NetworkRange] = []) {
        self.maxAttempts = maxAttempts
        self.initialBackoff = initialBackoff
        self.maxBackoff = maxBackoff
        self.timeout = timeout
        self.pollInterval = pollInterval
        self.concurrency = concurrency
        self.perTenantConcurrency = min(perTenantConcurrency ?? max(1, concurrency / 4), concurrency)
        self.allowPrivateNetworks = allowPrivateNetworks
        self.allowedNetworks = allowedNetworks
    }

    /// Where webhooks may be sent.
    public var addressPolicy: AddressPolicy {
        AddressPolicy(allowPrivateNetworks: allowPrivateNetworks, allowed: allowedNetworks)
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = WebhooksConfig()
        func span(_ key: CodingKeys, _ fallback: TimeSpan, atLeast minimum: TimeSpan) throws -> TimeSpan {
            let value = try container.decodeIfPresent(TimeSpan.self, forKey: key) ?? fallback
            guard value >= minimum else {
                throw DecodingError.dataCorruptedError(forKey: key, in: container, debugDescription: "\(key.stringValue) must be at least \(minimum)")
            }
            return value
        }
        maxAttempts = try container.decodeIfPresent(PositiveInt.self, forKey: .maxAttempts)?.value ?? defaults.maxAttempts
        initialBackoff = try span(.initialBackoff, defaults.initialBackoff, atLeast: .milliseconds(10))
        maxBackoff = try span(.maxBackoff, defaults.maxBackoff, atLeast: initialBackoff)
        timeout = try span(.timeout, defaults.timeout, atLeast: .milliseconds(100))
        pollInterval = try span(.pollInterval, defaults.pollInterval, atLeast: .milliseconds(10))
        concurrency = try container.decodeIfPresent(PositiveInt.self, forKey: .concurrency)?.value ?? defaults.concurrency
        perTenantConcurrency = try container.decodeIfPresent(PositiveInt.self, forKey: .perTenantConcurrency)?.value ?? max(1, concurrency / 4)
        guard perTenantConcurrency <= concurrency else {
            throw DecodingError.dataCorruptedError(forKey: .perTenantConcurrency, in: container,
                                                   debugDescription: "perTenantConcurrency (\(perTenantConcurrency)) must be at most concurrency (\(concurrency))")
        }
        allowPrivateNetworks = try container.decodeIfPresent(Bool.self, forKey: .allowPrivateNetworks) ?? false
        allowedNetworks = try container.decodeIfPresent([NetworkRange].self, forKey: .allowedNetworks) ?? []
    }

    /// The wait before attempt `attempts + 1` after `attempts` failures: doubling from
    /// ``initialBackoff`` up to ``maxBackoff``, with up to 20% random jitter either way.
    public func backoff(afterAttempts attempts: Int, random: Double = Double.random(in: -1...1)) -> Duration {
        let base = initialBackoff.duration * Double(1 << min(max(attempts - 1, 0), 30))
        let capped = min(base, maxBackoff.duration)
        return capped + capped * (0.2 * random)
    }
}
