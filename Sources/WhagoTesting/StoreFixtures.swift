public import Foundation
public import WhagoCore

/// Records the conformance suite writes, with fixed dates so that equality checks are exact.
public enum Fixtures {
    public static func date(_ seconds: Double) -> Date { Date(timeIntervalSince1970: 1_800_000_000 + seconds) }

    public static func tenant(_ id: TenantID) -> Tenant {
        Tenant(id: id, name: "Tenant \(id)", webhookURL: URL(string: "https://saas.example/hooks/\(id)"), createdAt: date(0))
    }

    public static func chip(_ id: ChipID, tenant: TenantID, name: String? = nil) -> Chip {
        Chip(id: id, tenant: tenant, name: name ?? id.rawValue, createdAt: date(0))
    }

    public static func worker(_ id: WorkerID, port: Int, tenant: TenantID = "t1") -> Worker {
        Worker(id: id, tenant: tenant, name: "whago-\(id)", host: "", port: port, apiKey: Secret("key-\(id)"),
               webhookSecret: Secret("hmac-\(id)"), createdAt: date(0))
    }

    public static func proxyLease(_ chip: ChipID, sticky: Int) -> ProxyLease {
        ProxyLease(chip: chip, provider: "dataimpulse",
                   endpoint: ProxyEndpoint(scheme: .socks5h, host: "gw.example", port: sticky, username: "login__cr.br", password: Secret("pw")),
                   stickyPort: sticky, leasedAt: date(1))
    }

    public static func entry(_ id: EventID, chip: ChipID, tenant: TenantID, due: Date? = nil) -> OutboxEntry {
        OutboxEntry(event: ChipEvent(id: id, chip: chip, kind: .statusChanged, status: .working,
                                     payload: .object(["status": "WORKING"]), occurredAt: date(2)),
                    tenant: tenant, nextAttemptAt: due ?? date(2))
    }
}
