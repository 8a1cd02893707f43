import Crypto
import CurlHTTP
import Foundation
import Orchestrator
import Synchronization
import Testing
import WhagoCore
import WhagoRig
import WhagoTesting

extension OrchestratorScenarios {
    /// A worker is untrusted: what its webhooks may cost is bounded per worker.
    @Suite("Worker webhooks: a flooding worker spends only its own budget", .timeLimit(.minutes(5)))
    struct WorkerWebhookLimitsTests {
        @Test("a worker flooding 900 KiB events gets 429 once its budget is spent; another worker's events still arrive; a long body is stored trimmed, media never inlined")
        func flood() async throws {
            // Once the flood starts, the budgets' time stands still: nothing refills while the test counts.
            let frozen = Mutex<ContinuousClock.Instant?>(nil)
            let limits = LimitsConfig(workerWebhooks: WorkerWebhookLimits(requestsPerSecond: 2, bytesPerSecond: ByteSize(bytes: 256 << 10)))
            try await withAPIRig(.file, limits: limits, rateLimitClock: { frozen.withLock { $0 } ?? .now }) { rig, api in
                let (_, floodChip) = try await api.tenantWithWaitingChip("flooder", chip: "f")
                let (_, calmChip) = try await api.tenantWithWaitingChip("calm", chip: "c")
                let flooder = try #require(try await rig.store.chip(ChipID(floodChip))?.worker)
                let calm = try #require(try await rig.store.chip(ChipID(calmChip))?.worker)
                #expect(flooder != calm, "one worker per tenant")
                let secrets = [flooder: try #require(try await rig.store.worker(flooder)).webhookSecret.revealed,
                               calm: try #require(try await rig.store.worker(calm)).webhookSecret.revealed]

                var sequence = 0
                func post(_ worker: WorkerID, chip: String, text: String, extra: String = "") async throws -> (status: Int, retryAfter: String?) {
                    sequence += 1
                    let body = Array(#"{"id":"evt_flood_\#(sequence)","timestamp":\#(Int(Date().timeIntervalSince1970 * 1000)),"event":"message","session":"\#(chip)","metadata":{"whago.chip":"\#(chip)"},"payload":{"id":"m\#(sequence)","body":"\#(text)","from":"5511999999999@c.us"\#(extra)}}"#.utf8)
                    let secret = try #require(secrets[worker])
                    let mac = HMAC<SHA512>.authenticationCode(for: body, using: SymmetricKey(data: Array(secret.utf8)))
                    let response = try await HTTPClient.shared.execute(HTTPClientRequest(.post, api.base + "/hooks/waha/\(worker.rawValue)", headers: [
                        ("Content-Type", "application/json"), ("X-Webhook-Hmac", Hex.encode(mac)), ("X-Webhook-Hmac-Algorithm", "sha512"),
                    ], body: body, timeout: .seconds(30)))
                    return (response.status, response.header("Retry-After"))
                }

                frozen.withLock { $0 = .now }
                let big = String(repeating: "x", count: 900 << 10)
                let first = try await post(flooder, chip: floodChip, text: big,
                                           extra: #","_data":{"raw":"engine"},"media":{"url":"https://example.invalid/m","mimetype":"image/png","data":"aGVsbG8="}"#)
                #expect(first.status == 202, "the burst covers one")
                let second = try await post(flooder, chip: floodChip, text: big)
                #expect(second.status == 429, "its byte budget is spent")
                #expect(Int(second.retryAfter ?? "") ?? 0 >= 1)
                var refused = 0
                for _ in 0..<10 where try await post(flooder, chip: floodChip, text: "small").status == 429 { refused += 1 }
                #expect(refused >= 2, "its request budget (burst 8) runs out too: \(refused)")

                // The other worker is not touched by any of it.
                #expect(try await post(calm, chip: calmChip, text: "hello").status == 202)
                let deadline = ContinuousClock.now + .seconds(20)
                // Read from the store: the API keys' buckets stand still too.
                func messages(_ chip: String) async throws -> [JSONValue] {
                    let tenant = try #require(try await rig.store.chip(ChipID(chip))?.tenant)
                    return try await rig.store.events(of: tenant, after: 0, limit: 1000).filter { $0.event.kind == .message }.map(\.event.payload)
                }
                while true {
                    let (calmOnes, floodOnes) = (try await messages(calmChip), try await messages(floodChip))
                    if !calmOnes.isEmpty, !floodOnes.isEmpty { break }
                    guard ContinuousClock.now < deadline else { Issue.record("the accepted webhooks never became events"); return }
                    try await Task.sleep(for: .milliseconds(25))
                }
                let stored = try #require(try await messages(floodChip).first)
                #expect(stored["body"]?.stringValue?.count == StoredPayload.maximumText, "the body is cut at \(StoredPayload.maximumText)")
                #expect(stored["truncated"] == .bool(true))
                #expect(stored["_data"] == nil && stored["media"]?["data"] == nil, "no raw engine data, no inlined media")
                #expect(stored["media"]?["url"] == "https://example.invalid/m")
            }
        }
    }
}
