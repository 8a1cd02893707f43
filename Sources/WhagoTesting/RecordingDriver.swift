public import WhagoCore

/// A registry of in-memory drivers for tests of configuration and selection: each driver's
/// configuration type records the keys it was given, and building it returns a ``RecordingDriver``.
public enum TestDrivers {
    /// One driver of each kind named `alpha` and one named `beta` (alias `b`).
    public static let registry = DriverRegistry(
        runtimes: [make(.runtime, "alpha"), make(.runtime, "beta", aliases: ["b"])],
        sessions: [make(.sessions, "alpha"), make(.sessions, "beta", aliases: ["b"])],
        proxies: [make(.proxy, "alpha"), make(.proxy, "beta", aliases: ["b"])],
        stores: [make(.store, "alpha"), make(.store, "beta", aliases: ["b"])]
    )

    private static func make<Instance>(_ kind: DriverKind, _ name: String, aliases: [String] = []) -> Driver<Instance> {
        Driver(kind: kind, name: name, aliases: aliases, summary: "test driver \(name)", sampleConfig: "\(name): {size: 1}",
               configuration: RecordingConfiguration.self) { configuration, _ in
            guard let driver = RecordingDriver(name: name, configuration: configuration) as? Instance else {
                throw WhagoError(.internal, "RecordingDriver is not a \(Instance.self)")
            }
            return driver
        }
    }
}

/// `{size: <positive int>, label: <string>, token: <secret>}`, all optional.
public struct RecordingConfiguration: DriverConfiguration, Equatable {
    public var size: Int
    public var label: String?
    public var token: Secret?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case size, label, token
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        size = try container.decodeIfPresent(PositiveInt.self, forKey: .size)?.value ?? 1
        label = try container.decodeIfPresent(String.self, forKey: .label)
        token = try container.decodeIfPresent(Secret.self, forKey: .token)
    }
}

/// A driver that only remembers how it was configured; it conforms to no kind's protocol, so it is
/// only useful to tests of configuration, registry and CLI plumbing.
public struct RecordingDriver: WhagoDriver {
    public let name: String
    public let configuration: RecordingConfiguration

    public func healthCheck() async -> HealthReport { .ok("recording driver \(name)") }
}
