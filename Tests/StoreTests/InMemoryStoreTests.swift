import Testing
import WhagoCore
import WhagoTesting

@Suite("The in-memory store passes the store conformance suite")
struct InMemoryStoreTests {
    let conformance = StoreConformance { .init(store: InMemoryStore(), reopen: nil) }

    @Test func tenantsAndAPIKeys() async throws { try await conformance.tenantsAndAPIKeys() }
    @Test func chips() async throws { try await conformance.chips() }
    @Test func workersAndPortLeases() async throws { try await conformance.workersAndPortLeases() }
    @Test func proxyLeases() async throws { try await conformance.proxyLeases() }
    @Test func atomicity() async throws { try await conformance.atomicity() }
    @Test func concurrentPortLeases() async throws { try await conformance.concurrentPortLeases() }
    @Test func outbox() async throws { try await conformance.outbox() }
    @Test func dedupeWindow() async throws { try await conformance.dedupeWindow() }
}
