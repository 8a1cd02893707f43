/// An error as a value: a stable machine-readable ``code`` and a human sentence.
///
/// Codes are part of whago's interface (API error bodies, logs, metrics labels) and never change
/// meaning once released; messages may be reworded. A message never contains a secret.
public struct WhagoError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A stable, snake_case identifier of the kind of failure, e.g. `capacity_exhausted`.
    public struct Code: RawRepresentable, Sendable, Hashable, CustomStringConvertible, ExpressibleByStringLiteral {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public init(stringLiteral value: String) { self.rawValue = value }
        public var description: String { rawValue }
    }

    /// What kind of failure this is.
    public let code: Code
    /// One sentence a deployer or API client can act on.
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code): \(message)" }
}

extension WhagoError.Code {
    /// The configuration is invalid (see ``ConfigError`` for located errors).
    public static let invalidConfig: Self = "invalid_config"
    /// A driver was selected that this build does not implement yet.
    public static let notImplemented: Self = "not_implemented"
    /// A record that must exist does not.
    public static let notFound: Self = "not_found"
    /// A uniqueness rule would be broken (one worker per host port, one chip per sticky port, …).
    public static let conflict: Self = "conflict"
    /// A pool (ports, sticky proxy ports, tenant quota) has no free slot left.
    public static let capacityExhausted: Self = "capacity_exhausted"
    /// A tenant's limit (its chips) is reached; the message names the limit.
    public static let quotaExceeded: Self = "quota_exceeded"
    /// A dependency (runtime, store, worker, proxy) could not be reached; retrying may succeed.
    public static let unavailable: Self = "unavailable"
    /// The data directory or database is held by another whago process.
    public static let locked: Self = "locked"
    /// A peer answered something whago cannot understand.
    public static let protocolError: Self = "protocol_error"
    /// Credentials were refused (API key, webhook signature, proxy password).
    public static let unauthorized: Self = "unauthorized"
    /// The operation does not apply to the current state (e.g. a QR code for a WORKING chip).
    public static let invalidState: Self = "invalid_state"
    /// The request itself is wrong (a bad name, a malformed phone number); the message says what.
    public static let invalidRequest: Self = "invalid_request"
    /// An idempotency key was used before for a request with another body: it is not the same
    /// request, and whago neither repeats the first one's answer nor sends the second.
    public static let idempotencyConflict: Self = "idempotency_conflict"
    /// A timeout expired.
    public static let timedOut: Self = "timed_out"
    /// Data on disk or in the database is damaged; whago refuses to overwrite it.
    public static let corrupt: Self = "corrupt"
    /// Anything else; the message says what.
    public static let `internal`: Self = "internal"
}

extension WhagoError {
    /// The startup error of a driver that is registered (so its configuration is validated) but not built yet.
    public static func driverNotImplemented(_ name: String) -> WhagoError {
        WhagoError(.notImplemented, "driver '\(name)' is not implemented yet")
    }

    /// The error of an operation whose driver exists in the registry but does not implement it yet.
    public static func notImplemented(driver: String, _ what: String) -> WhagoError {
        WhagoError(.notImplemented, "driver '\(driver)' does not implement \(what) yet")
    }
}
