public import Foundation

/// `limits:` — quotas and rates.
///
/// ```yaml
/// limits:
///   chipsPerTenant: 10          # chips one tenant may have (a tenant's own chipLimit overrides it)
///   apiRequestsPerSecond: 20    # each API key's token bucket refills this fast …
///   apiBurst: 40                # … and holds this many requests
///   sending:                    # anti-ban pacing of each chip's messages
///     minGap: 3s                # at least this between two messages of a chip …
///     jitter: 2s                # … plus a random 0..jitter, drawn for each message
///     dailyCap: 1000            # messages per chip in any 24 hours, once warmed up
///     warmup: [50, 100, 200, 400, 700]   # the cap on day 1, 2, … after a chip was paired
///   http:                       # what one client may hold of the HTTP server (see HTTPLimits)
///     idleTimeout: 60s
///   workerWebhooks:             # what one worker's webhooks may cost (see WorkerWebhookLimits)
///     requestsPerSecond: 50
/// ```
public struct LimitsConfig: Decodable, Sendable, Hashable {
    /// How many chips one tenant may have (the original system's limit was 10).
    public var chipsPerTenant: Int
    /// API requests per second allowed to one API key (the token bucket's refill rate).
    public var apiRequestsPerSecond: Int
    /// Requests one API key may make at once (the token bucket's size).
    public var apiBurst: Int
    /// How fast a chip may send.
    public var sending: SendingLimits
    /// What one client, key or tenant may hold of the HTTP server.
    public var http: HTTPLimits
    /// What one worker's webhooks may cost.
    public var workerWebhooks: WorkerWebhookLimits

    enum CodingKeys: String, CodingKey, CaseIterable {
        case chipsPerTenant, apiRequestsPerSecond, apiBurst, sending, http, workerWebhooks
    }

    public init(chipsPerTenant: Int = 10, apiRequestsPerSecond: Int = 20, apiBurst: Int? = nil, sending: SendingLimits = SendingLimits(),
                http: HTTPLimits = HTTPLimits(), workerWebhooks: WorkerWebhookLimits = WorkerWebhookLimits()) {
        self.workerWebhooks = workerWebhooks
        self.chipsPerTenant = chipsPerTenant
        self.apiRequestsPerSecond = apiRequestsPerSecond
        self.apiBurst = apiBurst ?? apiRequestsPerSecond * 2
        self.sending = sending
        self.http = http
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            chipsPerTenant: try container.decodeIfPresent(PositiveInt.self, forKey: .chipsPerTenant)?.value ?? 10,
            apiRequestsPerSecond: try container.decodeIfPresent(PositiveInt.self, forKey: .apiRequestsPerSecond)?.value ?? 20,
            apiBurst: try container.decodeIfPresent(PositiveInt.self, forKey: .apiBurst)?.value,
            sending: try container.decodeIfPresent(SendingLimits.self, forKey: .sending) ?? SendingLimits(),
            http: try container.decodeIfPresent(HTTPLimits.self, forKey: .http) ?? HTTPLimits(),
            workerWebhooks: try container.decodeIfPresent(WorkerWebhookLimits.self, forKey: .workerWebhooks) ?? WorkerWebhookLimits()
        )
    }
}

/// `limits.sending:` — the pace of each chip's messages. WhatsApp bans numbers that burst, and new
/// numbers most of all: a gap with jitter between messages, a daily cap, and a warm-up ramp.
public struct SendingLimits: Decodable, Sendable, Hashable {
    /// The least time between two messages of one chip.
    public var minGap: TimeSpan
    /// A random extra wait, 0 up to this, added to each gap.
    public var jitter: TimeSpan
    /// Messages one chip may send in any 24 hours once its warm-up is over.
    public var dailyCap: Int
    /// The daily cap on the first, second, … day after the chip was paired (each at most
    /// ``dailyCap``); empty for no warm-up.
    public var warmup: [Int]

    enum CodingKeys: String, CodingKey, CaseIterable {
        case minGap, jitter, dailyCap, warmup
    }

    public init(minGap: TimeSpan = .seconds(3), jitter: TimeSpan = .seconds(2), dailyCap: Int = 1000, warmup: [Int] = [50, 100, 200, 400, 700]) {
        self.minGap = minGap
        self.jitter = jitter
        self.dailyCap = dailyCap
        self.warmup = warmup
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = SendingLimits()
        minGap = try container.decodeIfPresent(TimeSpan.self, forKey: .minGap) ?? defaults.minGap
        jitter = try container.decodeIfPresent(TimeSpan.self, forKey: .jitter) ?? defaults.jitter
        dailyCap = try container.decodeIfPresent(PositiveInt.self, forKey: .dailyCap)?.value ?? defaults.dailyCap
        warmup = try container.decodeIfPresent([PositiveInt].self, forKey: .warmup)?.map(\.value) ?? defaults.warmup
        if let day = warmup.firstIndex(where: { $0 > dailyCap }) {
            throw DecodingError.dataCorruptedError(
                forKey: .warmup, in: container,
                debugDescription: "warmup day \(day + 1) allows \(warmup[day]) messages, more than dailyCap (\(dailyCap))")
        }
    }

    /// The cap on the chip's messages in the 24 hours before `now`, for a chip paired at `pairedAt`
    /// (nil: not known, counted as warmed up).
    public func cap(pairedAt: Date?, now: Date) -> Int {
        guard let pairedAt, !warmup.isEmpty else { return dailyCap }
        let day = Int(max(0, now.timeIntervalSince(pairedAt)) / 86_400)
        return day < warmup.count ? warmup[day] : dailyCap
    }
}
