import Synchronization

/// Counts of what the orchestrator did or refused, for logs now and metrics later.
public final class OrchestratorCounters: Sendable {
    /// One counter's name.
    public enum Name: String, Sendable, CaseIterable {
        /// Webhook events for a chip not placed on the worker that signed them (dropped).
        case webhookEventsForeign = "webhook_events_foreign"
        /// Webhook events already applied (dropped).
        case webhookEventsDuplicate = "webhook_events_duplicate"
        /// Webhook events applied.
        case webhookEventsApplied = "webhook_events_applied"
        /// Workers launched for the first time.
        case workersLaunched = "workers_launched"
        /// Workers restarted or re-created after they died or went missing.
        case workersRecovered = "workers_recovered"
        /// Workers moved off a lost node onto another.
        case workersMoved = "workers_moved"
        /// Workers removed after being idle.
        case workersReaped = "workers_reaped"
        /// Labelled workers no record knows, removed.
        case orphansRemoved = "orphans_removed"
        /// Chips expired after the QR budget.
        case chipsExpired = "chips_expired"
        /// FAILED sessions restarted by the policy.
        case failedSessionsRestarted = "failed_sessions_restarted"
        /// FAILED sessions left FAILED once the policy's restarts were used up.
        case failedSessionsGivenUp = "failed_sessions_given_up"
        /// Chips' proxies that failed their check (reported to the tenant).
        case proxiesFailed = "proxies_failed"
        /// Failed proxies replaced by a new lease.
        case proxiesReplaced = "proxies_replaced"
        /// Sessions on a worker that no chip knows, deleted.
        case strayedSessionsDeleted = "strayed_sessions_deleted"
    }

    private let values = Mutex<[Name: Int]>([:])

    public init() {}

    func increment(_ name: Name, by amount: Int = 1) {
        values.withLock { $0[name, default: 0] += amount }
    }

    /// The counter's current value.
    public subscript(_ name: Name) -> Int { values.withLock { $0[name, default: 0] } }
}
