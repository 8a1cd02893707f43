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
/// ```
public struct WebhooksConfig: Decodable, Sendable, Hashable {
    public var maxAttempts: Int
    public var initialBackoff: TimeSpan
    public var maxBackoff: TimeSpan
    public var timeout: TimeSpan
    public var pollInterval: TimeSpan
    public var concurrency: Int

    enum CodingKeys: String, CodingKey, CaseIterable {
        case maxAttempts, initialBackoff, maxBackoff, timeout, pollInterval, concurrency
    }

    public init(maxAttempts: Int = 12, initialBackoff: TimeSpan = .seconds(1), maxBackoff: TimeSpan = .seconds(600),
                timeout: TimeSpan = .seconds(10), pollInterval: TimeSpan = .milliseconds(250), concurrency: Int = 16) {
        self.maxAttempts = maxAttempts
        self.initialBackoff = initialBackoff
        self.maxBackoff = maxBackoff
        self.timeout = timeout
        self.pollInterval = pollInterval
        self.concurrency = concurrency
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
    }

    /// The wait before attempt `attempts + 1` after `attempts` failures: doubling from
    /// ``initialBackoff`` up to ``maxBackoff``, with up to 20% random jitter either way.
    public func backoff(afterAttempts attempts: Int, random: Double = Double.random(in: -1...1)) -> Duration {
        let base = initialBackoff.duration * Double(1 << min(max(attempts - 1, 0), 30))
        let capped = min(base, maxBackoff.duration)
        return capped + capped * (0.2 * random)
    }
}
