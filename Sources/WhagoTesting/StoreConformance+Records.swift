import Foundation
import Testing
import WhagoCore

/// Queries and outgoing messages.
extension StoreConformance {
    /// Keyset pagination and the lookups the API and the orchestrator make.
    public func queries() async throws {
        let store = try await fresh().store
        defer { Task { await store.shutdown() } }
        for tenant: TenantID in ["t3", "t1", "t2"] { try await store.createTenant(Fixtures.tenant(tenant)) }
        #expect(try await store.tenants(after: nil, limit: 2).map(\.id) == ["t1", "t2"])
        #expect(try await store.tenants(after: "t2", limit: 2).map(\.id) == ["t3"])
        // Ids made by ChipID.make sort by creation time: pages walk the chips in that order.
        let made = (0..<5).map { ChipID.make(prefix: "chip", at: Fixtures.date(Double($0))) }
        for (index, id) in made.enumerated() { try await store.createChip(Fixtures.chip(id, tenant: index == 4 ? "t2" : "t1")) }
        let first = try await store.chips(of: "t1", after: nil, limit: 3)
        #expect(first.map(\.id) == Array(made.prefix(3)))
        #expect(try await store.chips(of: "t1", after: first.last?.id, limit: 3).map(\.id) == [made[3]])
        #expect(try await store.chips(of: "t2", after: nil, limit: 10).map(\.id) == [made[4]])
        let worker = try await store.leasePort(in: try PortRange(3100, 3101), host: "h") { Fixtures.worker("w1", port: $0) }
        var placed = try #require(try await store.chip(made[1]))
        placed.worker = worker.id
        try await store.updateChip(placed)
        #expect(try await store.chips(on: "w1").map(\.id) == [made[1]])
        #expect(try await store.workers(of: "t1").map(\.id) == ["w1"])
        #expect(try await store.workers(of: "t2").isEmpty)
        try await store.addAPIKey(APIKeyRecord(prefix: "wk_b", tenant: "t1", hash: "h", createdAt: Fixtures.date(0)))
        try await store.addAPIKey(APIKeyRecord(prefix: "wk_a", tenant: "t1", hash: "h", createdAt: Fixtures.date(0)))
        try await store.addAPIKey(APIKeyRecord(prefix: "wk_c", tenant: "t2", hash: "h", createdAt: Fixtures.date(0)))
        #expect(try await store.apiKeys(of: "t1").map(\.prefix) == ["wk_a", "wk_b"])
    }

    /// Outgoing messages: recorded before the send, unique per chip and idempotency key, updated
    /// by version, counted for pacing, gone with their chip.
    public func messages() async throws {
        let store = try await fresh().store
        defer { Task { await store.shutdown() } }
        try await store.createTenant(Fixtures.tenant("t1"))
        try await store.createChip(Fixtures.chip("c1", tenant: "t1"))
        let message = OutgoingMessage(id: "m1", chip: "c1", tenant: "t1", idempotencyKey: "k1", chatID: "5511@c.us", text: "hi",
                                      createdAt: Fixtures.date(10))
        try await store.apply(StoreBatch([.recordMessage(message)]))
        try await expectCode(.conflict, "the same idempotency key again") {
            try await store.apply(StoreBatch([.recordMessage(OutgoingMessage(id: "m2", chip: "c1", tenant: "t1", idempotencyKey: "k1",
                                                                            chatID: "5511@c.us", text: "hi again"))]))
        }
        #expect(try await store.message(of: "c1", idempotencyKey: "k1")?.id == "m1")
        #expect(try await store.message(of: "c1", idempotencyKey: "other") == nil)
        try await store.apply(StoreBatch([.recordMessage(OutgoingMessage(id: "m3", chip: "c1", tenant: "t1", chatID: "5511@c.us", text: "x",
                                                                        createdAt: Fixtures.date(20)))]))
        try await expectCode(.notFound) {
            try await store.apply(StoreBatch([.recordMessage(OutgoingMessage(id: "m4", chip: "ghost", tenant: "t1", chatID: "1@c.us", text: "x"))]))
        }
        var sent = try #require(try await store.message("m1"))
        sent.status = .sent
        sent.providerMessageID = "true_5511@c.us_ABC"
        sent.sentAt = Fixtures.date(11)
        try await store.apply(StoreBatch([.updateMessage(sent)]))
        try await expectCode(.conflict, "a stale update") { try await store.apply(StoreBatch([.updateMessage(sent)])) }
        #expect(try await store.message("m1")?.status == .sent)
        #expect(try await store.message("m1")?.version == 2)
        #expect(try await store.messageCount(of: "c1", since: Fixtures.date(0)) == 2)
        #expect(try await store.messageCount(of: "c1", since: Fixtures.date(15)) == 1)
        // Found by the id its worker gave it (what a worker's ack names), on its chip only.
        #expect(try await store.message(of: "c1", providerMessageID: "true_5511@c.us_ABC")?.id == "m1")
        #expect(try await store.message(of: "c1", providerMessageID: "true_5511@c.us_XYZ") == nil)
        try await store.createChip(Fixtures.chip("c2", tenant: "t1", name: "second"))
        #expect(try await store.message(of: "c2", providerMessageID: "true_5511@c.us_ABC") == nil, "another chip's message")
        // A batch that fails undoes an update, and the id it gave goes with it.
        var renamed = try #require(try await store.message("m1"))
        renamed.providerMessageID = "true_5511@c.us_DEF"
        var tenant = try #require(try await store.tenant("t1"))
        tenant.version += 7
        try await expectCode(.conflict) { try await store.apply(StoreBatch([.updateMessage(renamed), .updateTenant(tenant)])) }
        #expect(try await store.message(of: "c1", providerMessageID: "true_5511@c.us_ABC")?.id == "m1")
        #expect(try await store.message(of: "c1", providerMessageID: "true_5511@c.us_DEF") == nil)
        try await store.apply(StoreBatch([.updateMessage(renamed)]))
        #expect(try await store.message(of: "c1", providerMessageID: "true_5511@c.us_DEF")?.id == "m1")
        #expect(try await store.message(of: "c1", providerMessageID: "true_5511@c.us_ABC") == nil)
        try await store.deleteChip("c1", event: nil)
        #expect(try await store.message("m1") == nil, "a chip's messages go with it")
        #expect(try await store.message(of: "c1", providerMessageID: "true_5511@c.us_DEF") == nil)
    }
}
