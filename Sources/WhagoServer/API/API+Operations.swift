import Foundation
import OpenAPIRuntime
import Orchestrator
import WhagoCore

extension APIHandler {
    func healthz(_ input: Operations.Healthz.Input) async throws -> Operations.Healthz.Output {
        .ok(.init(body: .json(.init(status: "ok", version: WhagoVersion.current.description))))
    }

    /// Ready when the store answers a read and the runtime a ping, each within 5 seconds.
    func readyz(_ input: Operations.Readyz.Input) async throws -> Operations.Readyz.Output {
        let (store, runtime) = (self.store, self.runtime)
        let checks = await readiness.get {
            async let storeCheck = Self.check { _ = try await store.tenants(after: nil, limit: 1) }
            async let runtimeCheck = Self.check { _ = try await runtime.ping() }
            return ["store": await storeCheck, "runtime": await runtimeCheck]
        }
        let body = Components.Schemas.Readiness(status: checks.values.allSatisfy { $0 == "ok" } ? .ready : .notReady,
                                                leader: await orchestrator.leadership.isLeader,
                                                checks: .init(additionalProperties: checks))
        return body.status == .ready ? .ok(.init(body: .json(body))) : .serviceUnavailable(.init(body: .json(body)))
    }

    /// "ok", or what went wrong (a ``WhagoError``'s code and message; never a secret).
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

    func metrics(_ input: Operations.Metrics.Input) async throws -> Operations.Metrics.Output {
        let text = await metrics.render(store: store, counters: orchestrator.counters, healthyWithin: orchestrator.workers.healthyWithin)
        return .ok(.init(body: .plainText(HTTPBody(text))))
    }

    func openAPIDocument(_ input: Operations.OpenAPIDocument.Input) async throws -> Operations.OpenAPIDocument.Output {
        .ok(.init(body: .json(try Self.document.get())))
    }

    /// The document as the generated route returns it, decoded once.
    private static let document = Result { try JSONDecoder().decode(OpenAPIObjectContainer.self, from: Data(OpenAPIDocument.json)) }
}
