public import Foundation

/// A message a tenant asked a chip to send, recorded before it is sent: a retry of the request
/// (same idempotency key) finds it instead of sending twice, and the records of a chip count its
/// sends for pacing.
public struct OutgoingMessage: Sendable, Hashable, Codable, Identifiable {
    /// Where a send is.
    public enum Status: String, Sendable, Hashable, Codable, CaseIterable {
        /// Recorded, not sent yet.
        case queued
        /// The worker accepted it.
        case sent
        /// The worker refused it; nothing was sent.
        case failed
        /// The request left and no answer came (timeout, 5xx): it may or may not have been sent.
        /// Never retried blindly: the tenant decides.
        case unknown
    }

    public var id: MessageID
    public var chip: ChipID
    public var tenant: TenantID
    /// The tenant's key for the request (`Idempotency-Key`); unique per chip.
    public var idempotencyKey: String?
    public var chatID: String
    public var text: String
    public var status: Status
    /// WAHA's id of the sent message.
    public var providerMessageID: String?
    public var error: String?
    public var createdAt: Date
    public var sentAt: Date?
    /// Bumped by the store on every write (see ``Tenant/version``).
    public var version: Int

    public init(id: MessageID, chip: ChipID, tenant: TenantID, idempotencyKey: String? = nil, chatID: String, text: String,
                status: Status = .queued, createdAt: Date = Date(), version: Int = 1) {
        self.id = id
        self.chip = chip
        self.tenant = tenant
        self.idempotencyKey = idempotencyKey
        self.chatID = chatID
        self.text = text
        self.status = status
        self.createdAt = createdAt
        self.version = version
    }
}
