public import Foundation

/// One WhatsApp number of a tenant: one WAHA session on a worker, behind one proxy lease.
public struct Chip: Sendable, Hashable, Codable, Identifiable {
    public var id: ChipID
    public var tenant: TenantID
    /// The tenant's name for the chip; unique per tenant.
    public var name: String
    public var status: ChipStatus
    /// The worker hosting the chip's session, once placed.
    public var worker: WorkerID?
    /// The WhatsApp id (`<number>@c.us`) once paired.
    public var phone: String?
    /// Free-form labels the tenant attached.
    public var metadata: [String: String]
    public var createdAt: Date
    /// When ``status`` last changed.
    public var statusChangedAt: Date
    /// Since when the chip waits to be paired (created, restarted or logged out by the tenant);
    /// nil once paired. The reaper expires a chip still unpaired after the QR budget.
    public var pairingSince: Date?
    /// When the current phone was paired: the first day of its sending warm-up (`limits.sending`).
    public var pairedAt: Date?
    /// Bumped by the store on every write (see ``Tenant/version``).
    public var version: Int

    public init(
        id: ChipID, tenant: TenantID, name: String, status: ChipStatus = .provisioning, worker: WorkerID? = nil,
        phone: String? = nil, metadata: [String: String] = [:], createdAt: Date = Date(), statusChangedAt: Date? = nil, version: Int = 1
    ) {
        self.id = id
        self.tenant = tenant
        self.name = name
        self.status = status
        self.worker = worker
        self.phone = phone
        self.metadata = metadata
        self.createdAt = createdAt
        self.statusChangedAt = statusChangedAt ?? createdAt
        self.pairingSince = phone == nil ? createdAt : nil
        self.version = version
    }

    enum CodingKeys: String, CodingKey {
        case id, tenant, name, status, worker, phone, metadata, createdAt, statusChangedAt, pairingSince, pairedAt, version
    }

    /// Records written before versions existed read as version 1.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(ChipID.self, forKey: .id)
        tenant = try container.decode(TenantID.self, forKey: .tenant)
        name = try container.decode(String.self, forKey: .name)
        status = try container.decode(ChipStatus.self, forKey: .status)
        worker = try container.decodeIfPresent(WorkerID.self, forKey: .worker)
        phone = try container.decodeIfPresent(String.self, forKey: .phone)
        metadata = try container.decode([String: String].self, forKey: .metadata)
        createdAt = try container.decode(Date.self, forKey: .createdAt)
        statusChangedAt = try container.decode(Date.self, forKey: .statusChangedAt)
        pairingSince = try container.decodeIfPresent(Date.self, forKey: .pairingSince)
        pairedAt = try container.decodeIfPresent(Date.self, forKey: .pairedAt)
        version = try container.decodeIfPresent(Int.self, forKey: .version) ?? 1
    }

    /// The chip is WORKING at `time`: its pairing clock stops, and a new pairing (none before, or
    /// another phone than `previousPhone`) starts its sending warm-up.
    public mutating func markPaired(at time: Date, previousPhone: String?) {
        pairingSince = nil
        if pairedAt == nil || phone != previousPhone { pairedAt = time }
    }

    /// The WAHA session name of the chip: stable, unique, and valid in WAHA's URL paths.
    public var sessionName: String { id.rawValue }
}

/// Where a chip is in its life. The first five are WAHA's session statuses, spelled as WAHA
/// spells them; the others are whago's own, for the times when no WAHA session exists.
public enum ChipStatus: String, Sendable, Hashable, Codable, CaseIterable {
    /// WAHA: the session exists but is not running.
    case stopped = "STOPPED"
    /// WAHA: the session is starting.
    case starting = "STARTING"
    /// WAHA: waiting for the phone to scan the QR code (or enter a pairing code).
    case scanQRCode = "SCAN_QR_CODE"
    /// WAHA: paired and connected; messages can be sent.
    case working = "WORKING"
    /// WAHA: the session failed (QR budget used up, logged out from the phone, engine crash).
    case failed = "FAILED"
    /// whago: accepted; a worker, a port and a proxy are being arranged.
    case provisioning = "PROVISIONING"
    /// whago: never scanned within the QR budget and stopped by the reaper.
    case expired = "EXPIRED"
    /// whago: being deleted; its session, proxy lease and records are being released.
    case deleting = "DELETING"

    /// Whether the status is one WAHA itself reports.
    public var isWAHAStatus: Bool {
        switch self {
        case .stopped, .starting, .scanQRCode, .working, .failed: true
        case .provisioning, .expired, .deleting: false
        }
    }
}
