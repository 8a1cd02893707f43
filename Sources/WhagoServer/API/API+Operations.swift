import Foundation
import OpenAPIRuntime
import Orchestrator
import WhagoCore

extension APIHandler {
    func healthz(_ input: Operations.Healthz.Input) async throws -> Operations.Healthz.Output {
        .ok(.init(body: .json(.init(status: "ok", version: WhagoVersion.current.description))))
    }

    /// Ready when the store answers a read and the runtime a ping (``Orchestrator/readiness()``),
    /// checked at most once a second.
    func readyz(_ input: Operations.Readyz.Input) async throws -> Operations.Readyz.Output {
        let orchestrator = self.orchestrator
        let checks = await readiness.get { await orchestrator.readiness() }
        let body = Components.Schemas.Readiness(status: checks.values.allSatisfy { $0 == "ok" } ? .ready : .notReady,
                                                leader: await orchestrator.leadership.isLeader,
                                                checks: .init(additionalProperties: checks))
        return body.status == .ready ? .ok(.init(body: .json(body))) : .serviceUnavailable(.init(body: .json(body)))
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
