import Foundation
import OpenAPIRuntime
import Orchestrator
import WhagoCore

// How whago's records look in the API (the generated `Components.Schemas`): no secret, ever.

extension Components.Schemas.Tenant {
    init(_ tenant: Tenant) {
        self.init(id: tenant.id.rawValue, name: tenant.name, chipLimit: tenant.chipLimit,
                  webhook: tenant.webhookURL.map { .init(url: $0.absoluteString) },
                  createdAt: tenant.createdAt, version: tenant.version)
    }
}

extension Components.Schemas.Chip {
    init(_ chip: Chip, proxy: ProxyLease?) {
        let proxied = proxy?.endpoint != nil
        self.init(id: chip.id.rawValue, name: chip.name, status: .init(chip.status), phone: chip.phone,
                  pushName: chip.metadata[ChipMetadata.pushName], worker: chip.worker?.rawValue,
                  proxy: proxied ? .init(country: chip.metadata[ChipMetadata.country] ?? "any") : nil,
                  createdAt: chip.createdAt, statusChangedAt: chip.statusChangedAt)
    }
}

extension Components.Schemas.ChipStatus {
    init(_ status: ChipStatus) {
        switch status {
        case .provisioning: self = .provisioning
        case .starting: self = .starting
        case .scanQRCode: self = .scanQrCode
        case .working: self = .working
        case .stopped: self = .stopped
        case .failed: self = .failed
        case .expired: self = .expired
        case .deleting: self = .deleting
        }
    }
}

extension Components.Schemas.Event {
    init(_ entry: OutboxEntry, cursors: EventCursors) {
        self.init(id: entry.id.rawValue, _type: entry.event.kind.rawValue, chip: entry.chip.rawValue, tenant: entry.tenant.rawValue,
                  occurredAt: entry.event.occurredAt, data: OpenAPIValueContainer(entry.event.payload), cursor: cursors.token(entry.sequence))
    }
}

extension OpenAPIValueContainer {
    /// A payload as the generated types carry free-form JSON.
    init(_ value: JSONValue) {
        // Both are plain JSON: a JSONValue always converts.
        self = (try? OpenAPIValueContainer(unvalidatedValue: value.foundationValue)) ?? OpenAPIValueContainer(nilLiteral: ())
    }
}

extension JSONValue {
    /// The value as Foundation's JSON objects (`NSNull`, `Bool`, `Double`, `String`, arrays, dictionaries).
    var foundationValue: (any Sendable)? {
        switch self {
        case .null: nil
        case .bool(let value): value
        case .number(let value): value
        case .string(let value): value
        case .array(let values): values.map(\.foundationValue)
        case .object(let members): members.mapValues(\.foundationValue)
        }
    }
}

/// A tenant webhook's body: `{id, type, chip, tenant, occurredAt, data}`.
struct TenantWebhookBody: Encodable {
    var id: String
    var type: String
    var chip: String
    var tenant: String
    var occurredAt: Date
    var data: JSONValue

    init(_ entry: OutboxEntry) {
        id = entry.id.rawValue
        type = entry.event.kind.rawValue
        chip = entry.chip.rawValue
        tenant = entry.tenant.rawValue
        occurredAt = entry.event.occurredAt
        data = entry.event.payload
    }
}
