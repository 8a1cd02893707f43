/// `orchestrator:` — how often whago looks at its workers and chips, and how patient it is.
///
/// ```yaml
/// orchestrator:
///   healthInterval: 15s        # each worker inspected and probed, each chip's status read
///   reconcileInterval: 60s     # store and runtime compared, unfinished operations driven to their end
///   idleWorkerGrace: 10m       # a worker hosting no chip is removed after this
///   qrBudget: 5m               # a chip not paired within this is EXPIRED (the tenant may restart it)
///   workerStartTimeout: 60s    # a new worker must answer its health probe within this
///   leaderLeaseTTL: 30s        # another replica takes over this long after the leader vanished
///   failedRestarts: 3          # a FAILED session is restarted this many times, then left FAILED
///   failedRestartBackoff: 30s  # wait before the first restart; doubled for each next one
///   proxyCheckInterval: 5m     # each chip's proxy checked (when its provider can check)
///   releaseFailingProxy: true  # a proxy that fails its check is replaced by a new lease
/// ```
public struct OrchestratorConfig: Decodable, Sendable, Hashable {
    public var healthInterval: TimeSpan
    public var reconcileInterval: TimeSpan
    public var idleWorkerGrace: TimeSpan
    public var qrBudget: TimeSpan
    public var workerStartTimeout: TimeSpan
    public var leaderLeaseTTL: TimeSpan
    public var failedRestarts: Int
    public var failedRestartBackoff: TimeSpan
    public var proxyCheckInterval: TimeSpan
    public var releaseFailingProxy: Bool

    enum CodingKeys: String, CodingKey, CaseIterable {
        case healthInterval, reconcileInterval, idleWorkerGrace, qrBudget, workerStartTimeout, leaderLeaseTTL
        case failedRestarts, failedRestartBackoff, proxyCheckInterval, releaseFailingProxy
    }

    public init(healthInterval: TimeSpan = .seconds(15), reconcileInterval: TimeSpan = .seconds(60), idleWorkerGrace: TimeSpan = .seconds(600),
                qrBudget: TimeSpan = .seconds(300), workerStartTimeout: TimeSpan = .seconds(60), leaderLeaseTTL: TimeSpan = .seconds(30),
                failedRestarts: Int = 3, failedRestartBackoff: TimeSpan = .seconds(30), proxyCheckInterval: TimeSpan = .seconds(300),
                releaseFailingProxy: Bool = true) {
        self.healthInterval = healthInterval
        self.reconcileInterval = reconcileInterval
        self.idleWorkerGrace = idleWorkerGrace
        self.qrBudget = qrBudget
        self.workerStartTimeout = workerStartTimeout
        self.leaderLeaseTTL = leaderLeaseTTL
        self.failedRestarts = failedRestarts
        self.failedRestartBackoff = failedRestartBackoff
        self.proxyCheckInterval = proxyCheckInterval
        self.releaseFailingProxy = releaseFailingProxy
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = OrchestratorConfig()
        func span(_ key: CodingKeys, _ fallback: TimeSpan, atLeast minimum: TimeSpan = .milliseconds(100)) throws -> TimeSpan {
            let value = try container.decodeIfPresent(TimeSpan.self, forKey: key) ?? fallback
            guard value >= minimum else {
                throw DecodingError.dataCorruptedError(forKey: key, in: container, debugDescription: "\(key.stringValue) must be at least \(minimum)")
            }
            return value
        }
        healthInterval = try span(.healthInterval, defaults.healthInterval)
        reconcileInterval = try span(.reconcileInterval, defaults.reconcileInterval)
        idleWorkerGrace = try span(.idleWorkerGrace, defaults.idleWorkerGrace, atLeast: .seconds(0))
        qrBudget = try span(.qrBudget, defaults.qrBudget, atLeast: .seconds(1))
        workerStartTimeout = try span(.workerStartTimeout, defaults.workerStartTimeout, atLeast: .seconds(1))
        leaderLeaseTTL = try span(.leaderLeaseTTL, defaults.leaderLeaseTTL, atLeast: .seconds(1))
        failedRestarts = try container.decodeIfPresent(NonNegativeInt.self, forKey: .failedRestarts)?.value ?? defaults.failedRestarts
        failedRestartBackoff = try span(.failedRestartBackoff, defaults.failedRestartBackoff, atLeast: .seconds(0))
        proxyCheckInterval = try span(.proxyCheckInterval, defaults.proxyCheckInterval, atLeast: .seconds(1))
        releaseFailingProxy = try container.decodeIfPresent(Bool.self, forKey: .releaseFailingProxy) ?? defaults.releaseFailingProxy
    }
}

/// An integer that is 0 or more.
public struct NonNegativeInt: Sendable, Hashable, Decodable, CustomStringConvertible {
    public let value: Int

    public init(from decoder: any Decoder) throws {
        let value = try decoder.singleValueContainer().decode(Int.self)
        guard value >= 0 else { throw ConfigValueError("expected 0 or more, got \(value)") }
        self.value = value
    }

    public var description: String { "\(value)" }
}
