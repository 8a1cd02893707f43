import CurlHTTP
import Foundation
import Orchestrator
import Testing
import WhagoCore
import WhagoRig
import WhagoServer
import WhagoTesting

/// zbarimg (zbar-tools), which reads the QR code as a phone would.
private let zbarimgPath: String? = ["/usr/bin/zbarimg", "/usr/local/bin/zbarimg"].first { FileManager.default.isExecutableFile(atPath: $0) }

extension OrchestratorScenarios {
    /// The README's walkthrough over real HTTP: what a SaaS backend does with whago.
    @Suite("REST API walkthrough", .timeLimit(.minutes(5)), .enabled(if: zbarimgPath != nil || TestServices.required))
    struct WalkthroughTests {

        @Test("tenant → chip → QR (PNG, base64, raw) → scan → WORKING on SSE and webhook → send, then paced → delete → worker reaped",
              arguments: StoreKind.available)
        func walkthrough(_ kind: StoreKind) async throws {
            let zbarimg = try #require(zbarimgPath, Comment(rawValue: TestServices.missing("zbarimg (zbar-tools)")))
            // A gap of an hour between a chip's messages: the send after the first is paced however
            // long the two requests take on a loaded machine.
            let limits = LimitsConfig(sending: SendingLimits(minGap: .seconds(3600)))
            try await withTenantReceiver { hooks in try await withAPIRig(kind, settings: testSettings(idleWorkerGrace: .seconds(1)), limits: limits) { rig, api in
                // The admin creates a tenant with a webhook: its key and generated secret are shown once.
                let created = try await api.call(.post, "/api/v1/tenants", key: api.admin,
                                                 json: ["name": "acme", "webhook": ["url": .string(hooks.url)]])
                #expect(created.status == 201)
                let key = try #require(created.json["apiKey"]?.stringValue)
                let secret = try #require(created.json["webhookSecret"]?.stringValue)
                #expect(try await api.call(.get, "/api/v1/tenants/\(try #require(created.json["tenant"]?["id"]?.stringValue))", key: api.admin)
                    .json["webhookSecret"] == nil, "the secret is never shown again")

                let events = try await EventStreamClient.open(api, key: key)
                // The tenant creates a chip (on the original frontend's path too).
                let chip = try await api.call(.post, "/api/v1/chips/create", key: key, json: ["name": "sales"])
                #expect(chip.status == 201)
                let id = try #require(chip.json["id"]?.stringValue)
                try await api.waitForStatus(id, key: key, "SCAN_QR_CODE")

                // The QR: a PNG that decodes to the raw value, and the same PNG as base64 JSON.
                var png: [UInt8] = []
                var raw: String?
                for _ in 0..<5 {
                    let before = try await api.call(.get, "/api/v1/chips/\(id)/qr?format=raw", key: key).json["value"]?.stringValue
                    let image = try await api.call(.get, "/api/v1/chips/\(id)/qr", key: key)
                    #expect(image.status == 200)
                    #expect(image.header("Content-Type") == "image/png")
                    png = image.body
                    let after = try await api.call(.get, "/api/v1/chips/\(id)/qr?format=raw", key: key).json["value"]?.stringValue
                    if before == after { raw = after; break }
                }
                let value = try #require(raw, "the QR code stayed the same for three calls")
                let directory = try TemporaryDirectory("qr")
                defer { directory.remove() }
                try Data(png).write(to: URL(fileURLWithPath: directory.file("qr.png")))
                let decoded = try await ChildProcess.run(zbarimg, ["--quiet", "--raw", directory.file("qr.png")])
                #expect(decoded.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == value)
                let base64 = try await api.call(.get, "/api/v1/chips/\(id)/qr", key: key, headers: [("Accept", "application/json")])
                #expect(base64.json["mimetype"]?.stringValue == "image/png")
                let data = try #require(Data(base64Encoded: base64.json["data"]?.stringValue ?? ""))
                #expect(Array(data.prefix(8)) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A], "a PNG")

                // A virtual phone scans it.
                #expect(try await simulatorScan(rig, chip: chip, value: value) == 200)

                // WORKING: on the SSE stream, and on the tenant's webhook, signed.
                let working = try await events.waitFor("WORKING") { $0.type == "chip.status" && $0.data["data"]?["status"] == "WORKING" }
                #expect(working.data["chip"]?.stringValue == id)
                #expect(working.id != nil)
                let delivered = try await hooks.waitFor("WORKING") { $0.json["data"]?["status"] == "WORKING" }
                #expect(delivered.json["chip"]?.stringValue == id)
                #expect(delivered.json["type"] == "chip.status")
                #expect(delivered.headers["X-Whago-Event-Id"] == delivered.json["id"]?.stringValue)
                let signature = try #require(delivered.headers["X-Whago-Signature"])
                #expect(TenantWebhookSignature.verify(signature, body: delivered.body, secret: Secret(secret)))
                #expect(!TenantWebhookSignature.verify(signature, body: delivered.body + [0x20], secret: Secret(secret)), "a changed body fails")
                for delivery in hooks.deliveries {
                    #expect(TenantWebhookSignature.verify(delivery.headers["X-Whago-Signature"] ?? "", body: delivery.body, secret: Secret(secret)))
                }
                await events.close()

                // Send: the first goes out, the second at once is paced.
                let message = try await api.call(.post, "/api/v1/chips/\(id)/messages", key: key,
                                                  json: ["chatId": "5511999999999@c.us", "text": "hello"], headers: [("Idempotency-Key", "order-1")])
                #expect(message.status == 201)
                #expect(message.json["status"] == "sent")
                // The same request again (its key, its body) is the same message; the key with another text is refused.
                let again = try await api.call(.post, "/api/v1/chips/\(id)/messages", key: key,
                                                json: ["chatId": "5511999999999@c.us", "text": "hello"], headers: [("Idempotency-Key", "order-1")])
                #expect(again.status == 201 && again.json["id"] == message.json["id"], "\(again.text)")
                let conflict = try await api.call(.post, "/api/v1/chips/\(id)/messages", key: key,
                                                   json: ["chatId": "5511999999999@c.us", "text": "hello!"], headers: [("Idempotency-Key", "order-1")])
                #expect(conflict.status == 422 && conflict.code == "idempotency_conflict", "\(conflict.text)")
                // Its ack reaches the tenant naming whago's id of it, and the worker's beside it.
                let messageID = try #require(message.json["id"]?.stringValue)
                let ack = try await hooks.waitFor("the message's ack") { $0.json["type"] == "message.ack" }
                #expect(ack.json["data"]?["messageId"]?.stringValue == messageID, "\(ack.json)")
                #expect(ack.json["data"]?["providerMessageId"]?.stringValue?.hasPrefix("true_5511999999999@c.us_") == true, "\(ack.json)")
                let paced = try await api.call(.post, "/api/v1/chips/\(id)/messages", key: key,
                                               json: ["chatId": "5511999999999@c.us", "text": "hello again"])
                #expect(paced.status == 429)
                #expect(paced.code == "pacing")
                #expect(Int(paced.header("Retry-After") ?? "") ?? 0 >= 1)

                // Deleted: gone for the tenant, and its worker reaped once idle.
                #expect(try await api.call(.delete, "/api/v1/chips/\(id)", key: key).status == 204)
                #expect(try await api.call(.get, "/api/v1/chips/\(id)", key: key).status == 404)
                let deadline = ContinuousClock.now + .seconds(30)
                while try await !api.call(.get, "/api/v1/workers", key: api.admin).json["workers"]!.arrayValue!.isEmpty {
                    guard ContinuousClock.now < deadline else { Issue.record("the idle worker was never reaped"); break }
                    try await Task.sleep(for: .milliseconds(100))
                }
                #expect(try await rig.runtime.list(labels: [WorkerLabel.instance: rig.options.instance.rawValue]).isEmpty)
            } }
        }
    }
}
