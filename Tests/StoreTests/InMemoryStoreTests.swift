import Testing
import WhagoCore
import WhagoTesting

@Suite("The in-memory store passes the store conformance suite", .timeLimit(.minutes(3)))
struct InMemoryStoreTests {
    /// It keeps nothing once closed: the suite's durability check is not for it.
    let conformance = StoreConformance { .volatile(InMemoryStore()) }

    @Test("the in-memory store", arguments: StoreConformance.Check.volatileCases)
    func check(_ check: StoreConformance.Check) async throws { try await conformance.run(check) }
}
