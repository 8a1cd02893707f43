import Crypto
import CurlHTTP
import Foundation
import Logging
import WhagoCore

/// Sends events to a session's webhooks as WAHA does: the envelope, the `X-Webhook-*` headers, the
/// HMAC-SHA512 signature, custom headers, and retries per the webhook's `retries` policy.
///
/// Deliveries of one session go out in order, one after the other (a retried event holds back the
/// ones after it), so a receiver never sees `SCAN_QR_CODE` before the `STARTING` that preceded it.
actor WebhookDispatcher {
    struct Delivery: Sendable {
        var webhook: SessionConfigView.Webhook
        var body: [UInt8]
        var requestID: String
    }

    private let configuration: SimulatorConfiguration
    private let client: HTTPClient
    private let logger: Logger
    private var queues: [String: AsyncStream<Delivery>.Continuation] = [:]

    init(configuration: SimulatorConfiguration, client: HTTPClient, logger: Logger) {
        self.configuration = configuration
        self.client = client
        self.logger = logger
    }

    /// The `environment` member of every envelope.
    var environment: JSONValue {
        .object([
            "version": .string(SimulatedWAHA.version), "engine": .string(configuration.engine), "tier": .string(SimulatedWAHA.tier),
            "browser": "", "platform": "linux/x64",
            "worker": .object(["id": configuration.workerID.map(JSONValue.string) ?? .null]),
        ])
    }

    /// Sends `event` with `payload` to every webhook of the session that subscribes to it.
    func emit(_ event: String, session: SimulatedSession, payload: JSONValue) {
        let webhooks = (session.parsedConfig.webhooks ?? []).filter { $0.wants(event) }
        guard !webhooks.isEmpty else { return }
        let now = Date()
        let envelope: JSONValue = .object([
            "id": .string("evt_" + ULID.make(at: now)),
            "timestamp": .number((now.timeIntervalSince1970 * 1000).rounded()),
            "event": .string(event),
            "session": .string(session.name),
            "metadata": session.metadata,
            "me": session.me.map { me in
                .object(["id": .string(me.id), "pushName": .string(me.pushName)])
            } ?? .null,
            "payload": payload,
            "engine": .string(configuration.engine),
            "environment": environment,
        ])
        guard let body = try? JSONEncoder.waha.encode(envelope) else { return }
        for webhook in webhooks {
            queue(for: session.name).yield(Delivery(webhook: webhook, body: Array(body), requestID: "req_" + ULID.make(at: now)))
        }
    }

    /// Stops delivering for a deleted session.
    func forget(_ session: String) {
        queues.removeValue(forKey: session)?.finish()
    }

    private func queue(for session: String) -> AsyncStream<Delivery>.Continuation {
        if let queue = queues[session] { return queue }
        let (stream, continuation) = AsyncStream<Delivery>.makeStream()
        queues[session] = continuation
        let sender = Sender(configuration: configuration, client: client, logger: logger)
        Task {
            for await delivery in stream { await sender.deliver(delivery) }
        }
        return continuation
    }
}

/// Posts one delivery, retrying as WAHA's `WebhookSender` does (axios-retry): one try, then
/// `retries.attempts` retries (default 15) on any failure, retry k waiting `delaySeconds` (default
/// 2; `constant`, also when no policy is given), `k · delaySeconds` (`linear`) or
/// `2^k · delaySeconds` plus 0-20 % (`exponential`) — or the failed answer's `Retry-After`, when
/// longer. A delay of 0 retries at once.
struct Sender: Sendable {
    let configuration: SimulatorConfiguration
    let client: HTTPClient
    let logger: Logger

    /// The wait before retry `retry` (1 for the first) when the failed answer asked for `retryAfter`
    /// seconds, and a random part `jitter` in 0...1 — WAHA's formula.
    static func delay(retry: Int, policy: String?, delaySeconds: Double, retryAfter: Double, jitter: Double) -> Double {
        guard delaySeconds > 0 else { return max(0, retryAfter) }
        switch policy {
        case "linear":
            return max(Double(retry) * delaySeconds, retryAfter)
        case "exponential":
            let delay = max(pow(2, Double(retry)) * delaySeconds, retryAfter)
            return delay + delay * 0.2 * jitter
        default:
            return max(delaySeconds, retryAfter)
        }
    }

    func deliver(_ delivery: WebhookDispatcher.Delivery) async {
        let retries = delivery.webhook.retries
        // A session's config is the caller's input: bounded, so no value can trap or stall forever
        // (WAHA would wait as long as asked; the simulator waits an hour at most).
        let attempts = min(100, max(0, retries?.attempts ?? 15))
        let delaySeconds = (retries?.delaySeconds).map { $0.isFinite ? min(3600, max(0, $0)) : 0 } ?? 2
        var retryAfter = await send(delivery)
        guard retryAfter != nil else { return }
        for retry in 0..<attempts {
            let seconds = Self.delay(retry: retry + 1, policy: retries?.policy, delaySeconds: delaySeconds,
                                     retryAfter: retryAfter ?? 0, jitter: Double.random(in: 0...1))
            try? await Task.sleep(for: configuration.scaled(.milliseconds(Int64(min(seconds, 3600) * 1000))))
            retryAfter = await send(delivery)
            if retryAfter == nil { return }
        }
        logger.warning("webhook not delivered", metadata: ["url": "\(delivery.webhook.url)", "attempts": "\(attempts + 1)"])
    }

    /// Posts the delivery: nil when it was accepted (2xx), else the seconds its answer's
    /// `Retry-After` asks for (0 when none).
    private func send(_ delivery: WebhookDispatcher.Delivery) async -> Double? {
        var request = HTTPClientRequest(.post, delivery.webhook.url, body: delivery.body, timeout: .seconds(10))
        request.addHeader("Content-Type", "application/json")
        request.addHeader("User-Agent", "WAHA/\(SimulatedWAHA.version)")
        request.addHeader("X-Webhook-Request-Id", delivery.requestID)
        request.addHeader("X-Webhook-Timestamp", "\(Int64(Date().timeIntervalSince1970 * 1000))")
        if let key = delivery.webhook.hmac?.key, !key.isEmpty {
            request.addHeader("X-Webhook-Hmac", WebhookSignature.hmacSHA512(body: delivery.body, key: key))
            request.addHeader("X-Webhook-Hmac-Algorithm", "sha512")
        }
        for header in delivery.webhook.customHeaders ?? [] { request.addHeader(header.name, header.value) }
        do {
            let response = try await client.execute(request)
            if (200..<300).contains(response.status) { return nil }
            let asked = response.headers.first { $0.name.lowercased() == "retry-after" }.flatMap { Double($0.value) }
            return asked.map { $0.isFinite ? max(0, $0) : 0 } ?? 0
        } catch {
            logger.debug("webhook attempt failed", metadata: ["url": "\(delivery.webhook.url)", "error": "\(error)"])
            return 0
        }
    }
}

/// WAHA's webhook signature: hex HMAC-SHA512 of the raw body.
public enum WebhookSignature {
    public static func hmacSHA512(body: [UInt8], key: String) -> String {
        Hex.encode(HMAC<SHA512>.authenticationCode(for: body, using: SymmetricKey(data: Array(key.utf8))))
    }
}
