import Foundation
import Testing
import WhagoCore

/// Fencing leases and sticky proxy ports.
extension StoreConformance {
    /// One holder at a time; the token grows when the holder changes; a deposed holder's fenced
    /// write is refused, the new holder's accepted.
    public func leases() async throws {
        let store = try await fresh().store
        defer { Task { await store.shutdown() } }
        try await store.createTenant(Fixtures.tenant("t1"))
        let first = try #require(try await store.acquireLease("leader", holder: "a", ttl: .seconds(60)))
        #expect(try await store.acquireLease("leader", holder: "b", ttl: .seconds(30)) == nil, "held by a")
        #expect(try await store.acquireLease("leader", holder: "a", ttl: .seconds(60)) == first, "a again: same token")
        #expect(try await store.renewLease("leader", holder: "a", token: first, ttl: .seconds(60)))
        #expect(try await store.renewLease("leader", holder: "b", token: first, ttl: .seconds(30)) == false)
        var tenant = try #require(try await store.tenant("t1"))
        tenant.name = "by a"
        try await store.apply(StoreBatch([.updateTenant(tenant)], fence: Fence(lease: "leader", token: first)))

        // a's last renewal is a short one and it stops; once the lease expired, b takes it with a
        // larger token.
        #expect(try await store.renewLease("leader", holder: "a", token: first, ttl: .milliseconds(1)))
        var second: FencingToken?
        let deadline = ContinuousClock.now + .seconds(30)
        while second == nil, ContinuousClock.now < deadline {
            second = try await store.acquireLease("leader", holder: "b", ttl: .seconds(30))
            if second == nil { try await Task.sleep(for: .milliseconds(50)) }
        }
        let taken = try #require(second, "b took the expired lease")
        #expect(taken > first)
        #expect(try await store.renewLease("leader", holder: "a", token: first, ttl: .seconds(30)) == false, "a was deposed")
        tenant = try #require(try await store.tenant("t1"))
        var late = tenant
        late.name = "late write by a"
        try await expectCode(.conflict, "the deposed leader's write") {
            try await store.apply(StoreBatch([.updateTenant(late)], fence: Fence(lease: "leader", token: first)))
        }
        #expect(try await store.tenant("t1")?.name == "by a")
        late.name = "by b"
        try await store.apply(StoreBatch([.updateTenant(late)], fence: Fence(lease: "leader", token: taken)))
        #expect(try await store.tenant("t1")?.name == "by b")

        // Released: taken at once by another, with a still larger token.
        try await store.releaseLease("leader", holder: "b")
        let third = try #require(try await store.acquireLease("leader", holder: "c", ttl: .seconds(30)))
        #expect(third > taken)
        try await expectCode(.conflict) {
            try await store.apply(StoreBatch([.enqueue([Fixtures.entry("e1", chip: "c1", tenant: "t1")])], fence: Fence(lease: "leader", token: taken)))
        }
        try await expectCode(.conflict, "a fence on a lease nobody ever held") {
            try await store.apply(StoreBatch([], fence: Fence(lease: "nobody", token: FencingToken(1))))
        }
    }

    /// Sticky proxy ports chosen by the store: the lowest free one (or from a start, wrapping),
    /// one chip each per provider, the chip's own lease again when it has one, no password kept.
    public func stickyPorts() async throws {
        let store = try await fresh().store
        defer { Task { await store.shutdown() } }
        try await store.createTenant(Fixtures.tenant("t1"))
        let chips = (0..<20).map { ChipID("c\($0)") }
        for chip in chips { try await store.createChip(Fixtures.chip(chip, tenant: "t1")) }
        let range = try PortRange(10000, 10015)
        @Sendable func lease(_ chip: ChipID, provider: String = "di", start: Int? = nil) async throws -> ProxyLease {
            let template = try #require(Fixtures.proxyLease(chip, sticky: range.lowerBound).endpoint)
            return try await StoreProxyLeases(store).leaseStickyPort(StickyPortLease(
                chip: chip, provider: provider, ports: range, startingAt: start, endpoint: .atPort(template), leasedAt: Fixtures.date(1)))
        }
        #expect(try await lease("c0").stickyPort == 10000)
        #expect(try await lease("c0").stickyPort == 10000, "the chip's own lease again")
        #expect(try await lease("c1", start: 10014).stickyPort == 10014)
        #expect(try await lease("c2", start: 10014).stickyPort == 10015)
        #expect(try await lease("c3", start: 10015).stickyPort == 10001, "wrapping around")
        try await store.releaseProxyLease(of: "c1")
        #expect(try await lease("c4", start: 10014).stickyPort == 10014, "a released port is free again")
        #expect(try await store.proxyLease(of: "c0")?.endpoint?.password == nil, "a lease keeps no password")
        // Another provider has its own ports.
        #expect(try await lease("c5", provider: "other").stickyPort == 10000)
        try await expectCode(.notFound) { _ = try await lease("ghost") }
        // 14 at once for the 12 ports left: each port once, the rest capacity_exhausted.
        let results = try await withThrowingTaskGroup(of: Int?.self) { group in
            for chip in chips.dropFirst(6) {
                group.addTask {
                    do {
                        return try await lease(chip).stickyPort
                    } catch let error as WhagoError where error.code == .capacityExhausted {
                        return nil
                    }
                }
            }
            return try await group.reduce(into: [Int?]()) { $0.append($1) }
        }
        let ports = results.compactMap { $0 }
        #expect(ports.count == 12 && Set(ports).count == 12, "\(ports)")
        let all = try await store.proxyLeases().filter { $0.provider == "di" }
        #expect(all.count == 16)
        // One read for a page of chips: the leases of those that hold one, by chip.
        let page = Array(all.prefix(3).map(\.chip)) + [ChipID("chip-without-lease")]
        let leases = try await store.proxyLeases(of: page)
        #expect(leases.count == 3)
        #expect(Set(leases.keys) == Set(page.prefix(3)))
        #expect(leases.values.allSatisfy { lease in all.contains(lease) })
        #expect(try await store.proxyLeases(of: []).isEmpty)
    }
}
