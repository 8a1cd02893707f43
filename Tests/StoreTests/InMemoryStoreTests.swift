import Testing
import WhagoCore
import WhagoTesting

@Suite("The in-memory store passes the store conformance suite", .timeLimit(.minutes(3)))
struct InMemoryStoreTests {
    let conformance = StoreConformance { .init(store: InMemoryStore(), reopen: nil) }

    @Test("the in-memory store", arguments: StoreConformance.Check.allCases.filter { $0 != .durability })
    func check(_ check: StoreConformance.Check) async throws { try await conformance.run(check) }
}
