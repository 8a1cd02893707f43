public import Logging

/// The four kinds of driver, named as their YAML sections are.
public enum DriverKind: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case runtime, sessions, proxy, store

    public var description: String { rawValue }
}

/// A driver's configuration type: decoded from the YAML section named after the driver, with the
/// driver's defaults for every key that is absent, rejecting unknown keys.
///
/// Give the type `CodingKeys: CaseIterable` so that an unknown key's error lists the valid ones.
public protocol DriverConfiguration: Decodable, Sendable {
    /// For a session provider: how old a signed worker webhook may be and still be accepted. A
    /// replay is caught by the event log, so this must be shorter than `store.eventRetention`.
    var webhookReplayWindow: TimeSpan? { get }
}

extension DriverConfiguration {
    public var webhookReplayWindow: TimeSpan? { nil }
}

/// What a driver gets when it is built.
public struct DriverContext: Sendable {
    /// The whago installation; every worker is labelled with it.
    public var instance: InstanceID
    /// whago's own data directory (`server.dataDir`); drivers keep their files under it by default.
    public var dataDirectory: String
    public var logger: Logger
    /// Seals the secrets a store keeps, with the installation's master key (nil: stored as they are).
    public var sealer: SecretSealer?

    public init(instance: InstanceID, dataDirectory: String, logger: Logger, sealer: SecretSealer? = nil) {
        self.instance = instance
        self.dataDirectory = dataDirectory
        self.logger = logger
        self.sealer = sealer
    }
}

/// One compiled-in driver: its name, its YAML sample, how to decode its section and how to build it.
///
/// A driver target exposes one of these as its single public entry point (e.g. `DockerRuntime.driver`);
/// its configuration type stays internal.
public struct Driver<Instance: Sendable>: Sendable, CustomStringConvertible {
    public let kind: DriverKind
    /// The name `driver:` selects, also the name of the driver's YAML section.
    public let name: String
    /// Other names `driver:` accepts for this driver.
    public let aliases: [String]
    /// One line: what the driver does.
    public let summary: String
    /// The driver's YAML section with every key at its default, commented, as `whago drivers` prints it.
    public let sampleConfig: String
    let decodeConfiguration: @Sendable (any Decoder) throws -> any DriverConfiguration
    let makeInstance: @Sendable (any DriverConfiguration, DriverContext) async throws -> Instance
    let inspectInstance: (@Sendable (any DriverConfiguration, DriverContext) async -> HealthReport)?
    let proxySchemesOf: (@Sendable (any DriverConfiguration) -> ProxySchemes)?

    /// Declares a driver.
    /// - Parameters:
    ///   - make: builds the driver from its decoded configuration. It may fail (the peer is
    ///     unreachable, the data directory is locked); it does not run the health check.
    ///   - inspect: what `whago doctor` reports instead of building the driver, for a driver whose
    ///     building writes (a store creates its directory, takes its lock, migrates its schema):
    ///     it reads only — creates, locks, migrates and starts nothing — and tells a resource in
    ///     use by a running whago from a fault. Without it, doctor builds the driver and runs its
    ///     health check, so both must then be free of side effects.
    ///   - proxySchemes: for a sessions driver, the proxy protocols its session software can use;
    ///     for a proxy driver, those it hands out — as its configuration says, so that a
    ///     configuration pairing two that share none is refused where it is written.
    public init<Configuration: DriverConfiguration>(
        kind: DriverKind, name: String, aliases: [String] = [], summary: String, sampleConfig: String,
        configuration: Configuration.Type,
        make: @escaping @Sendable (Configuration, DriverContext) async throws -> Instance,
        inspect: (@Sendable (Configuration, DriverContext) async -> HealthReport)? = nil,
        proxySchemes: (@Sendable (Configuration) -> ProxySchemes)? = nil
    ) {
        self.kind = kind
        self.name = name
        self.aliases = aliases
        self.summary = summary
        self.sampleConfig = sampleConfig
        self.decodeConfiguration = { decoder in try Configuration(from: decoder) }
        self.makeInstance = { configuration, context in
            guard let configuration = configuration as? Configuration else {
                throw WhagoError(.internal, "driver '\(name)' was given the configuration of another driver")
            }
            return try await make(configuration, context)
        }
        if let inspect {
            self.inspectInstance = { (configuration: any DriverConfiguration, context: DriverContext) async -> HealthReport in
                guard let configuration = configuration as? Configuration else {
                    return .error("driver '\(name)' was given the configuration of another driver")
                }
                return await inspect(configuration, context)
            }
        } else {
            self.inspectInstance = nil
        }
        if let proxySchemes {
            self.proxySchemesOf = { (configuration: any DriverConfiguration) -> ProxySchemes in
                // Decoded by this driver, so always its own configuration type.
                (configuration as? Configuration).map(proxySchemes) ?? ProxySchemes(ProxyEndpoint.Scheme.allCases, setting: "driver")
            }
        } else {
            self.proxySchemesOf = nil
        }
    }

    /// Whether `driver: <name>` selects this driver.
    public func answers(to name: String) -> Bool { self.name == name || aliases.contains(name) }

    public var description: String { "\(kind) driver '\(name)'" }
}

/// The compiled-in drivers of each kind: one explicit list, filled in the executable.
public struct DriverRegistry: Sendable {
    public let runtimes: [Driver<any ContainerRuntime>]
    public let sessions: [Driver<any SessionProvider>]
    public let proxies: [Driver<any ProxyProvider>]
    public let stores: [Driver<any Store>]

    /// Builds a registry; names (and aliases) must be unique within a kind.
    public init(
        runtimes: [Driver<any ContainerRuntime>], sessions: [Driver<any SessionProvider>],
        proxies: [Driver<any ProxyProvider>], stores: [Driver<any Store>]
    ) {
        self.runtimes = runtimes
        self.sessions = sessions
        self.proxies = proxies
        self.stores = stores
        for kind in DriverKind.allCases {
            let names = entries(of: kind).flatMap { [$0.name] + $0.aliases }
            precondition(Set(names).count == names.count, "duplicate \(kind) driver names in the registry: \(names)")
        }
    }

    /// The drivers whose instances are `Instance`s (e.g. `any ContainerRuntime`).
    public func drivers<Instance>(_ type: Instance.Type) -> [Driver<Instance>] {
        (runtimes as? [Driver<Instance>]) ?? (sessions as? [Driver<Instance>])
            ?? (proxies as? [Driver<Instance>]) ?? (stores as? [Driver<Instance>]) ?? []
    }

    /// Name, aliases, summary and sample of every driver of a kind, in registration order.
    public func entries(of kind: DriverKind) -> [DriverEntry] {
        func describe<I>(_ drivers: [Driver<I>]) -> [DriverEntry] {
            drivers.map { DriverEntry(name: $0.name, aliases: $0.aliases, summary: $0.summary, sampleConfig: $0.sampleConfig) }
        }
        switch kind {
        case .runtime: return describe(runtimes)
        case .sessions: return describe(sessions)
        case .proxy: return describe(proxies)
        case .store: return describe(stores)
        }
    }
}

/// A driver as `whago drivers` lists it.
public struct DriverEntry: Sendable, Hashable {
    public var name: String
    public var aliases: [String]
    public var summary: String
    public var sampleConfig: String
}

extension CodingUserInfoKey {
    /// Where configuration decoding finds the ``DriverRegistry`` (required to decode ``WhagoConfig``).
    public static let driverRegistry = CodingUserInfoKey(rawValue: "whago.driverRegistry")!
}
