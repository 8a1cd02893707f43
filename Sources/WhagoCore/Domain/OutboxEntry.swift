public import Foundation

/// An event of a chip in the store's event log, with the state of its delivery to the tenant's
/// webhook beside it.
///
/// The log has one store-wide order, ``sequence`` (the cursor of `GET /events?after=` and of SSE's
/// `Last-Event-ID`); entries stay in it after delivery until they are pruned. Delivery keeps the
/// order of each chip's events: an event is handed out only when every earlier event of its chip
/// was delivered or dead-lettered.
public struct OutboxEntry: Sendable, Hashable, Codable {
    /// Where an entry is in its delivery.
    public enum State: String, Sendable, Hashable, Codable {
        /// Waiting for delivery (or for its next attempt).
        case pending
        /// Delivered (a 2xx from the tenant's webhook).
        case delivered
        /// Given up on after the retry limit; kept for a manual retry.
        case dead
    }

    public var event: ChipEvent
    public var tenant: TenantID
    /// The entry's place in the store-wide log, assigned by the store when it is appended (0 before).
    public var sequence: Int64
    public var state: State
    /// Delivery attempts so far.
    public var attempts: Int
    public var nextAttemptAt: Date
    public var lastError: String?
    public var deliveredAt: Date?
    /// Who is delivering it now, and until when nobody else may (see `Store.claimDue`).
    public var claimedBy: String?
    public var claimedUntil: Date?

    public init(event: ChipEvent, tenant: TenantID, attempts: Int = 0, nextAttemptAt: Date = Date(), lastError: String? = nil) {
        self.event = event
        self.tenant = tenant
        self.sequence = 0
        self.state = .pending
        self.attempts = attempts
        self.nextAttemptAt = nextAttemptAt
        self.lastError = lastError
    }

    public var id: EventID { event.id }
    public var chip: ChipID { event.chip }

    enum CodingKeys: String, CodingKey {
        case event, tenant, sequence, state, attempts, nextAttemptAt, lastError, deliveredAt, claimedBy, claimedUntil
    }

    /// Entries written before the log existed read as pending, sequence 0 (the store assigns one).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        event = try container.decode(ChipEvent.self, forKey: .event)
        tenant = try container.decode(TenantID.self, forKey: .tenant)
        sequence = try container.decodeIfPresent(Int64.self, forKey: .sequence) ?? 0
        state = try container.decodeIfPresent(State.self, forKey: .state) ?? .pending
        attempts = try container.decode(Int.self, forKey: .attempts)
        nextAttemptAt = try container.decode(Date.self, forKey: .nextAttemptAt)
        lastError = try container.decodeIfPresent(String.self, forKey: .lastError)
        deliveredAt = try container.decodeIfPresent(Date.self, forKey: .deliveredAt)
        claimedBy = try container.decodeIfPresent(String.self, forKey: .claimedBy)
        claimedUntil = try container.decodeIfPresent(Date.self, forKey: .claimedUntil)
    }
}
