import Foundation

/// `limits.http:` — what one client, API key or tenant may hold of the HTTP server, so that a
/// hostile or broken one cannot exhaust it for the others.
///
/// ```yaml
/// limits:
///   http:
///     idleTimeout: 60s            # a connection that sends nothing (or a request too slowly) this long is closed
///     maxConnections: 2048        # connections open at once; more wait in the listen backlog
///     authFailuresPerMinute: 20   # failed authentications of one client address (429 beyond)
///     eventStreamsPerKey: 32      # event streams (SSE) one API key holds open (429 beyond)
///     eventStreams: 1024          # event streams open in the whole process (429 beyond)
///     passThroughPerTenant: 8     # WAHA pass-through calls of one tenant in flight (429 beyond)
/// ```
public struct HTTPLimits: Decodable, Sendable, Hashable {
    /// How long a connection may stay silent while a request is read, or between requests
    /// (slowloris). A response being written (an event stream) is never cut.
    public var idleTimeout: TimeSpan
    /// Connections open at once; further connections wait in the listen backlog.
    public var maxConnections: Int
    /// Failed authentications one client address may make in a minute; beyond, every request of
    /// that address is 429 `auth_failures` until the minute has passed.
    public var authFailuresPerMinute: Int
    /// Event streams one API key may hold open.
    public var eventStreamsPerKey: Int
    /// Event streams open in the process, all keys together.
    public var eventStreams: Int
    /// WAHA pass-through calls one tenant may have in flight.
    public var passThroughPerTenant: Int

    enum CodingKeys: String, CodingKey, CaseIterable {
        case idleTimeout, maxConnections, authFailuresPerMinute, eventStreamsPerKey, eventStreams, passThroughPerTenant
    }

    public init(idleTimeout: TimeSpan = .seconds(60), maxConnections: Int = 2048, authFailuresPerMinute: Int = 20,
                eventStreamsPerKey: Int = 32, eventStreams: Int = 1024, passThroughPerTenant: Int = 8) {
        self.idleTimeout = idleTimeout
        self.maxConnections = maxConnections
        self.authFailuresPerMinute = authFailuresPerMinute
        self.eventStreamsPerKey = eventStreamsPerKey
        self.eventStreams = eventStreams
        self.passThroughPerTenant = passThroughPerTenant
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = HTTPLimits()
        self.init(
            idleTimeout: try container.decodeIfPresent(TimeSpan.self, forKey: .idleTimeout) ?? defaults.idleTimeout,
            maxConnections: try container.decodeIfPresent(PositiveInt.self, forKey: .maxConnections)?.value ?? defaults.maxConnections,
            authFailuresPerMinute: try container.decodeIfPresent(PositiveInt.self, forKey: .authFailuresPerMinute)?.value ?? defaults.authFailuresPerMinute,
            eventStreamsPerKey: try container.decodeIfPresent(PositiveInt.self, forKey: .eventStreamsPerKey)?.value ?? defaults.eventStreamsPerKey,
            eventStreams: try container.decodeIfPresent(PositiveInt.self, forKey: .eventStreams)?.value ?? defaults.eventStreams,
            passThroughPerTenant: try container.decodeIfPresent(PositiveInt.self, forKey: .passThroughPerTenant)?.value ?? defaults.passThroughPerTenant)
        guard idleTimeout.duration >= .seconds(1) else {
            throw DecodingError.dataCorruptedError(forKey: .idleTimeout, in: container, debugDescription: "idleTimeout must be at least 1s")
        }
        guard eventStreamsPerKey <= eventStreams else {
            throw DecodingError.dataCorruptedError(forKey: .eventStreamsPerKey, in: container,
                                                   debugDescription: "eventStreamsPerKey (\(eventStreamsPerKey)) must not be more than eventStreams (\(eventStreams))")
        }
    }
}
