public import Foundation
import Hummingbird
import Testing
import WhagoCore

/// whago's side of the wire on 127.0.0.1, as workers and proxies see it: a webhook receiver
/// (`POST /hook`, each request kept) and an IP-echo probe (`GET /ip`, answering
/// ``probeAnswer``, hits counted).
public actor LoopbackPeer {
    /// One request the receiver got.
    public struct Webhook: Sendable {
        public var headers: [String: String]
        public var body: [UInt8]
    }

    /// The exit address the probe reports.
    public static let probeAnswer = "203.0.113.7"

    public private(set) var webhooks: [Webhook] = []
    public private(set) var probeHits = 0
    private var server: LoopbackServer?

    public init() {}

    public var port: Int { server?.port ?? 0 }
    public var hookURL: URL { URL(string: "http://127.0.0.1:\(port)/hook")! }
    public var probeURL: String { "http://127.0.0.1:\(port)/ip" }

    /// Starts serving; returns once the server listens.
    public func start() async throws {
        let router = Router()
        router.post("hook") { request, _ in
            let received = try await ReceivedRequest(request)
            await self.keep(Webhook(headers: received.headers, body: received.body))
            return Response(status: .ok)
        }
        router.get("ip") { _, _ in
            await self.hit()
            return LoopbackPeer.probeAnswer
        }
        server = try await LoopbackServer.start(router)
    }

    private func keep(_ webhook: Webhook) { webhooks.append(webhook) }
    private func hit() { probeHits += 1 }

    public func stop() async { await server?.stop() }

    /// Waits until `condition` holds for the webhooks received (30 s at most; an issue otherwise).
    public func waitForWebhooks(_ what: String, until condition: @Sendable ([Webhook]) -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(30)
        while !condition(webhooks) {
            guard ContinuousClock.now < deadline else {
                Issue.record("never: \(what)")
                return
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// The first webhook that satisfies `condition`, waiting 30 s at most for it.
    public func firstWebhook(_ what: String, where condition: @Sendable (Webhook) -> Bool) async throws -> Webhook {
        let deadline = ContinuousClock.now + .seconds(30)
        while true {
            if let found = webhooks.first(where: condition) { return found }
            guard ContinuousClock.now < deadline else { throw WhagoError(.timedOut, "the webhook receiver never got \(what)") }
            try await Task.sleep(for: .milliseconds(20))
        }
    }
}
