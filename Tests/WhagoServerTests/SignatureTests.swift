import Foundation
import Testing
import WhagoCore
@testable import WhagoServer

@Suite("Tenant webhook signatures", .timeLimit(.minutes(3)))
struct SignatureTests {
    let body = Array(#"{"id":"evt_1","type":"chip.status"}"#.utf8)
    let secret = Secret("a-tenant-secret-of-some-length")
    let time = Date(timeIntervalSince1970: 1_800_000_000)

    @Test("t=<unix seconds>,v1=<hex HMAC-SHA256(secret, \"<t>.<body>\")>, as a receiver recomputes it")
    func format() {
        let header = TenantWebhookSignature.sign(body, secrets: [secret], at: time)
        #expect(header.hasPrefix("t=1800000000,v1="))
        // Known answer: HMAC-SHA256("a-tenant-secret-of-some-length", "1800000000.{...}") computed independently (openssl).
        #expect(header == "t=1800000000,v1=bb39356e9da04326e1d24ed7053b1926f8c7776b2e89a330aea177a6d86ddfb8")
        #expect(TenantWebhookSignature.verify(header, body: body, secret: secret, now: time))
    }

    @Test("a changed body, another secret or an old timestamp do not verify")
    func refusals() {
        let header = TenantWebhookSignature.sign(body, secrets: [secret], at: time)
        #expect(!TenantWebhookSignature.verify(header, body: body + [0x20], secret: secret, now: time))
        #expect(!TenantWebhookSignature.verify(header, body: body, secret: Secret("another-secret-entirely"), now: time))
        #expect(!TenantWebhookSignature.verify(header, body: body, secret: secret, now: time.addingTimeInterval(301)))
        #expect(!TenantWebhookSignature.verify("v1=00", body: body, secret: secret, now: time))
    }

    @Test("during a rotation the previous secret signs too")
    func rotation() {
        let previous = Secret("the-previous-secret-value")
        let header = TenantWebhookSignature.sign(body, secrets: [secret, previous], at: time)
        #expect(header.split(separator: ",").count == 3)
        #expect(TenantWebhookSignature.verify(header, body: body, secret: secret, now: time))
        #expect(TenantWebhookSignature.verify(header, body: body, secret: previous, now: time))
    }
}

@Suite("API building blocks", .timeLimit(.minutes(3)))
struct BuildingBlockTests {
    @Test("a token bucket per key: burst, then one per 1/rate seconds; keys are independent")
    func rateLimiter() {
        let limiter = RateLimiter(rate: 2, burst: 3)
        let start = ContinuousClock.now
        #expect((0..<3).allSatisfy { _ in limiter.acquire("a", now: start) == nil })
        let wait = limiter.acquire("a", now: start)
        #expect(wait != nil)
        #expect(wait! <= .milliseconds(500) && wait! > .zero)
        #expect(limiter.acquire("b", now: start) == nil)
        #expect(limiter.acquire("a", now: start + .milliseconds(500)) == nil, "half a second refills one token at 2/s")
        #expect(limiter.acquire("a", now: start + .milliseconds(500)) != nil)
    }

    @Test("openapi.yaml converts to JSON: plain scalars typed, quoted ones strings, every operation listed")
    func document() throws {
        let json = try #require(try JSONSerialization.jsonObject(with: Data(OpenAPIDocument.json)) as? [String: Any])
        #expect(json["openapi"] as? String == "3.1.0")
        let operations = OpenAPIDocument.operations.map { "\($0.method) \($0.path)" }
        #expect(operations.contains("POST /hooks/waha/{worker}"))
        #expect(operations.contains("GET /api/v1/chips/{chipId}/qr"))
        let limit = ((json["components"] as? [String: Any])?["parameters"] as? [String: Any])?["Limit"] as? [String: Any]
        let schema = limit?["schema"] as? [String: Any]
        #expect(schema?["maximum"] as? Int == 500)
        #expect(limit?["required"] as? Bool == false)
    }

    @Test("pacing: the cap ramps up over the days after pairing, then the daily cap")
    func warmup() {
        let limits = SendingLimits(minGap: .seconds(3), jitter: .seconds(2), dailyCap: 1000, warmup: [50, 100, 200])
        let paired = Date(timeIntervalSince1970: 1_800_000_000)
        #expect(limits.cap(pairedAt: paired, now: paired.addingTimeInterval(60)) == 50)
        #expect(limits.cap(pairedAt: paired, now: paired.addingTimeInterval(86_400 + 1)) == 100)
        #expect(limits.cap(pairedAt: paired, now: paired.addingTimeInterval(2 * 86_400 + 1)) == 200)
        #expect(limits.cap(pairedAt: paired, now: paired.addingTimeInterval(3 * 86_400 + 1)) == 1000)
        #expect(limits.cap(pairedAt: nil, now: paired) == 1000)
    }

    @Test("webhook retries back off exponentially with jitter, up to the maximum")
    func backoff() {
        let settings = WebhooksConfig(maxAttempts: 10, initialBackoff: .seconds(1), maxBackoff: .seconds(60))
        #expect(settings.backoff(afterAttempts: 1, random: 0) == .seconds(1))
        #expect(settings.backoff(afterAttempts: 4, random: 0) == .seconds(8))
        #expect(settings.backoff(afterAttempts: 20, random: 0) == .seconds(60))
        #expect(abs(settings.backoff(afterAttempts: 4, random: 1).seconds - 9.6) < 0.001)
        #expect(abs(settings.backoff(afterAttempts: 4, random: -1).seconds - 6.4) < 0.001)
    }
}
