import Foundation
import WhagoCore

extension Orchestrator {
    /// Whether whago can work now (`GET /readyz`): the store answers a read and the runtime a
    /// ping, each within 5 seconds. Each check is "ok", or what went wrong (a ``WhagoError``'s code
    /// and message; never a secret).
    public func readiness() async -> [String: String] {
        let (store, runtime) = (reconciler.context.store, reconciler.context.runtime)
        async let storeCheck = Self.check { _ = try await store.tenants(after: nil, limit: 1) }
        async let runtimeCheck = Self.check { _ = try await runtime.ping() }
        return ["store": await storeCheck, "runtime": await runtimeCheck]
    }

    private static func check(_ probe: @escaping @Sendable () async throws -> Void) async -> String {
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await probe() }
                group.addTask {
                    try await Task.sleep(for: .seconds(5))
                    throw WhagoError(.timedOut, "no answer within 5 s")
                }
                try await group.next()
                group.cancelAll()
            }
            return "ok"
        } catch let error as WhagoError {
            return "\(error.code): \(error.message)"
        } catch {
            return "failed: \(type(of: error))"
        }
    }
}
