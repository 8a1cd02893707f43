public import ServiceLifecycle

/// What every driver, of every kind, provides beyond its kind's protocol.
///
/// # Implementation requirements
/// - ``healthCheck()`` never throws and never hangs for longer than a few seconds: it reports
///   what it found (`whago doctor` prints it, `whago serve` refuses to start on an error).
/// - Long-running work the driver needs (a connection pool, an event pump) is returned in
///   ``services`` and runs in whago's one `ServiceGroup`; the driver does not start tasks of its own
///   that outlive a call.
/// - ``shutdown()`` releases what the driver holds (file locks, connections) and is idempotent.
public protocol WhagoDriver: Sendable {
    /// Checks that the driver can work: its peer is reachable, its files are writable, its version
    /// is supported. Called at startup and by `whago doctor`.
    func healthCheck() async -> HealthReport

    /// Services that must run while the driver is in use (for example a PostgreSQL client).
    var services: [any Service] { get }

    /// Releases what the driver holds. Called once everything using the driver has stopped.
    func shutdown() async
}

extension WhagoDriver {
    public var services: [any Service] { [] }
    public func shutdown() async {}
}

/// The outcome of a driver's health check: one line of `whago doctor`.
public struct HealthReport: Sendable, Hashable, CustomStringConvertible {
    /// How bad it is.
    public enum Status: String, Sendable, Hashable, Comparable {
        case ok, warning, error

        private var rank: Int {
            switch self {
            case .ok: 0
            case .warning: 1
            case .error: 2
            }
        }

        public static func < (lhs: Status, rhs: Status) -> Bool { lhs.rank < rhs.rank }
    }

    public var status: Status
    /// What was checked and found, e.g. `Docker 28.2.2, API 1.50`.
    public var detail: String
    /// For a warning or an error: what the deployer should do.
    public var fix: String?

    public init(_ status: Status, _ detail: String, fix: String? = nil) {
        self.status = status
        self.detail = detail
        self.fix = fix
    }

    public static func ok(_ detail: String) -> HealthReport { HealthReport(.ok, detail) }
    public static func warning(_ detail: String, fix: String? = nil) -> HealthReport { HealthReport(.warning, detail, fix: fix) }
    public static func error(_ detail: String, fix: String? = nil) -> HealthReport { HealthReport(.error, detail, fix: fix) }

    public var description: String {
        "\(status.rawValue): \(detail)" + (fix.map { " — fix: \($0)" } ?? "")
    }
}
