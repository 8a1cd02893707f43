/// A driver section of the configuration: `driver: <name>` plus a section named after the driver.
///
/// ```yaml
/// runtime:
///   driver: docker
///   docker: { socket: /var/run/docker.sock }
///   local: { command: [whago, waha-sim] }   # allowed, not validated: another driver's section
/// ```
/// The selected driver's section is decoded strictly by the driver's own configuration type (an
/// absent section means "every default"); sections of other compiled-in drivers of the kind may be
/// present and are ignored, so a deployer can switch drivers by changing one line.
public struct DriverSelection<Instance: Sendable>: Decodable, Sendable {
    /// The selected driver.
    public let driver: Driver<Instance>
    /// Its decoded configuration (internal to the driver; see ``redactedSummary``).
    public let configuration: any DriverConfiguration
    /// `store.eventRetention`, the one setting shared by every store: how long delivered and
    /// dead-lettered events (and settled messages) stay in the log. Nil for other kinds.
    public let eventRetention: TimeSpan?

    /// The default of `store.eventRetention`: 7 days.
    public static var defaultEventRetention: TimeSpan { .seconds(7 * 24 * 3600) }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: ConfigKey.self)
        let choice = try container.decode(DriverChoice<Instance>.self, forKey: ConfigKey("driver"))
        let registry = try DriverRegistry.from(decoder)
        let drivers = registry.drivers(Instance.self)
        // Mark every known driver's section as expected, so that only misspelt ones are reported.
        for known in drivers {
            for name in [known.name] + known.aliases { _ = container.contains(ConfigKey(name)) }
        }
        let sectionKey = container.contains(ConfigKey(choice.name)) ? ConfigKey(choice.name) : ConfigKey(choice.driver.name)
        if choice.driver.kind == .store {
            let retention = try container.decodeIfPresent(TimeSpan.self, forKey: ConfigKey("eventRetention")) ?? Self.defaultEventRetention
            guard retention.duration >= .seconds(3600) else {
                throw DecodingError.dataCorruptedError(forKey: ConfigKey("eventRetention"), in: container,
                                                       debugDescription: "eventRetention must be at least 1h (clients resume from the log)")
            }
            eventRetention = retention
        } else {
            eventRetention = nil
        }
        self.driver = choice.driver
        self.configuration = try choice.driver.decodeConfiguration(try container.superDecoder(forKey: sectionKey))
    }

    /// Builds the driver from its configuration.
    public func make(_ context: DriverContext) async throws -> Instance {
        try await driver.makeInstance(configuration, context)
    }

    /// What the selected driver says of proxy protocols, as configured (see `Driver`'s
    /// `proxySchemes`); nil when it says nothing (any).
    public var proxySchemes: ProxySchemes? { driver.proxySchemesOf?(configuration) }

    /// The driver's read-only report for `whago doctor`, when it has one (see `Driver`'s `inspect`);
    /// nil: build it and run its health check instead.
    public func inspect(_ context: DriverContext) async -> HealthReport? {
        await driver.inspectInstance?(configuration, context)
    }

    /// `name key=value …` with every secret shown as `<redacted>`.
    public var redactedSummary: String {
        var settings = Redacted.fields(of: configuration)
        if let eventRetention { settings += (settings.isEmpty ? "" : " ") + "eventRetention=\(eventRetention)" }
        return settings.isEmpty ? driver.name : "\(driver.name) \(settings)"
    }
}

/// The value of a `driver:` key, checked against the registry where it is written.
struct DriverChoice<Instance: Sendable>: Decodable {
    let name: String
    let driver: Driver<Instance>

    init(from decoder: any Decoder) throws {
        let name = try decoder.singleValueContainer().decode(String.self)
        let drivers = try DriverRegistry.from(decoder).drivers(Instance.self)
        guard let driver = drivers.first(where: { $0.answers(to: name) }) else {
            let kind = drivers.first?.kind.rawValue ?? "this kind of"
            let names = drivers.map(\.name).joined(separator: ", ")
            throw ConfigValueError("unknown \(kind) driver '\(name)' (compiled-in \(kind) drivers: \(names))")
        }
        self.name = name
        self.driver = driver
    }
}

extension DriverRegistry {
    /// The registry that configuration decoding was given through ``CodingUserInfoKey/driverRegistry``.
    static func from(_ decoder: any Decoder) throws -> DriverRegistry {
        guard let registry = decoder.userInfo[.driverRegistry] as? DriverRegistry else {
            throw WhagoError(.internal, "configuration decoded without a driver registry in userInfo[.driverRegistry]")
        }
        return registry
    }
}

/// A coding key made from any string, for sections whose keys are only known at run time.
public struct ConfigKey: CodingKey, Hashable, Sendable {
    public let stringValue: String
    public init(_ string: String) { self.stringValue = string }
    public init?(stringValue: String) { self.stringValue = stringValue }
    public var intValue: Int? { nil }
    public init?(intValue: Int) { return nil }
}
