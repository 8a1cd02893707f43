import CurlHTTP
import Foundation
import Orchestrator
import Testing
import WhagoCore
import WhagoRig
import WhagoServer
import WhagoTesting

extension OrchestratorScenarios {
    /// Tenant webhooks from the durable outbox: retried while the tenant is down, in order per chip,
    /// dead-lettered after the last attempt and retried on request.
    @Suite("Tenant webhook delivery", .timeLimit(.minutes(5)))
    struct DeliveryTests {
        @Test("the tenant's receiver down for a while: every event arrives later, each chip's in log order", arguments: StoreKind.available)
        func receiverDown(_ kind: StoreKind) async throws {
            try await withTenantReceiver { hooks in try await withAPIRig(kind) { rig, api in
                hooks.setDown(true)
                let created = try await api.call(.post, "/api/v1/tenants", key: api.admin, json: ["name": "flaky", "webhook": ["url": .string(hooks.url)]])
                let key = try #require(created.json["apiKey"]?.stringValue)
                var ids: [String] = []
                for name in ["one", "two"] {
                    ids.append(try #require(try await api.call(.post, "/api/v1/chips", key: key, json: .object(["name": .string(name)])).json["id"]?.stringValue))
                }
                for id in ids { try await api.waitForStatus(id, key: key, "SCAN_QR_CODE") }
                let deadline = ContinuousClock.now + .seconds(30)
                while hooks.refused < 4 {
                    guard ContinuousClock.now < deadline else { Issue.record("whago never retried"); return }
                    try await Task.sleep(for: .milliseconds(25))
                }
                #expect(hooks.deliveries.isEmpty)
                hooks.setDown(false)

                let log = try #require(try await api.call(.get, "/api/v1/events", key: key).json["events"]?.arrayValue)
                let logged = log.compactMap { $0["id"]?.stringValue }
                #expect(logged.count >= 4, "STARTING and SCAN_QR_CODE of each chip")
                try await hooks.waitFor("for every logged event", timeout: .seconds(30)) { _ in
                    Set(hooks.deliveries.compactMap { $0.json["id"]?.stringValue }).isSuperset(of: logged)
                }
                for id in ids {
                    let expected = log.filter { $0["chip"]?.stringValue == id }.compactMap { $0["id"]?.stringValue }
                    var seen = Set<String>()
                    let arrived = hooks.deliveries.filter { $0.json["chip"]?.stringValue == id }.compactMap { $0.json["id"]?.stringValue }
                        .filter { seen.insert($0).inserted }
                    #expect(arrived == expected, "chip \(id)'s events in log order")
                }
                #expect(try await api.call(.get, "/api/v1/dead-letters", key: key).json["deadLetters"]?.arrayValue?.isEmpty == true)
                let depthDeadline = ContinuousClock.now + .seconds(10)
                while try await rig.store.outboxDepth() > 0 {
                    guard ContinuousClock.now < depthDeadline else { Issue.record("the outbox never drained"); return }
                    try await Task.sleep(for: .milliseconds(25))
                }
            } }
        }

        @Test("after webhooks.maxAttempts an event is dead-lettered; a retry delivers it; a tenant without a webhook still polls its events")
        func deadLetters() async throws {
            try await withTenantReceiver { hooks in try await withAPIRig(.file, webhooks: testWebhooks(maxAttempts: 2)) { rig, api in
                hooks.setDown(true)
                let created = try await api.call(.post, "/api/v1/tenants", key: api.admin, json: ["name": "gone", "webhook": ["url": .string(hooks.url)]])
                let key = try #require(created.json["apiKey"]?.stringValue)
                let id = try #require(try await api.call(.post, "/api/v1/chips", key: key, json: ["name": "lost"]).json["id"]?.stringValue)
                try await api.waitForStatus(id, key: key, "SCAN_QR_CODE")
                let deadline = ContinuousClock.now + .seconds(30)
                var dead: [JSONValue] = []
                while dead.count < 2 {
                    dead = try await api.call(.get, "/api/v1/dead-letters", key: key).json["deadLetters"]?.arrayValue ?? []
                    guard ContinuousClock.now < deadline else { Issue.record("nothing was dead-lettered: \(dead)"); return }
                    try await Task.sleep(for: .milliseconds(25))
                }
                #expect(dead.first?["lastError"]?.stringValue?.contains("HTTP 503") == true)
                #expect(dead.first?["attempts"]?.numberValue == 2, "webhooks.maxAttempts: 2")

                hooks.setDown(false)
                let eventID = try #require(dead.first?["event"]?["id"]?.stringValue)
                #expect(try await api.call(.post, "/api/v1/dead-letters/\(eventID)/retry", key: key).status == 202)
                try await hooks.waitFor("for the retried event") { $0.json["id"]?.stringValue == eventID }
                #expect(try await api.call(.get, "/api/v1/dead-letters", key: key).json["deadLetters"]?.arrayValue?.contains { $0["event"]?["id"]?.stringValue == eventID } == false)
                #expect(try await api.call(.post, "/api/v1/dead-letters/evt_none/retry", key: key).status == 404)

                // No webhook: the events are settled at once and still read by polling.
                let quiet = try #require(try await api.call(.post, "/api/v1/tenants", key: api.admin, json: ["name": "quiet"]).json["apiKey"]?.stringValue)
                let other = try #require(try await api.call(.post, "/api/v1/chips", key: quiet, json: ["name": "silent"]).json["id"]?.stringValue)
                try await api.waitForStatus(other, key: quiet, "SCAN_QR_CODE")
                let page = try await api.call(.get, "/api/v1/events?after=0&limit=500", key: quiet)
                #expect(page.json["events"]?.arrayValue?.allSatisfy { $0["chip"]?.stringValue == other } == true, "only its own chip's events")
                #expect(page.json["events"]?.arrayValue?.isEmpty == false)
                let next = try #require(page.json["next"]?.stringValue)
                #expect(try await api.call(.get, "/api/v1/events?after=\(next)", key: quiet).json["events"]?.arrayValue?.isEmpty == true)
                _ = rig
            } }
        }

        @Test("one tenant's endpoint that hangs holds its own deliveries only (webhooks.perTenantConcurrency): another tenant's events keep arriving")
        func hangingTenant() async throws {
            // Deliveries wait up to a minute: a pipeline that waited for its slowest member would
            // hold the other tenant's events that long, past the waits below.
            var webhooks = testWebhooks()
            webhooks.timeout = .seconds(60)
            webhooks.concurrency = 4
            webhooks.perTenantConcurrency = 2
            try await withTenantReceiver { slow in try await withTenantReceiver { quick in
                try await withAPIRig(.file, webhooks: webhooks) { _, api in
                    slow.setHanging(true)
                    let stuck = try #require(try await api.call(.post, "/api/v1/tenants", key: api.admin,
                                                                json: ["name": "stuck", "webhook": ["url": .string(slow.url)]]).json["apiKey"]?.stringValue)
                    // Five chips: five chips' events due at once, more than the whole concurrency.
                    for index in 0..<5 {
                        #expect(try await api.call(.post, "/api/v1/chips", key: stuck, json: ["name": .string("s\(index)")]).status == 201)
                    }
                    try await waitUntil("the hanging tenant's deliveries fill its share") { slow.held.now == 2 }

                    let lively = try #require(try await api.call(.post, "/api/v1/tenants", key: api.admin,
                                                                 json: ["name": "lively", "webhook": ["url": .string(quick.url)]]).json["apiKey"]?.stringValue)
                    let id = try #require(try await api.call(.post, "/api/v1/chips", key: lively, json: ["name": "q"]).json["id"]?.stringValue)
                    try await quick.waitFor("for the lively tenant's chip waiting for its scan", timeout: .seconds(40)) {
                        $0.json["chip"]?.stringValue == id && $0.json["data"]?["status"]?.stringValue == "SCAN_QR_CODE"
                    }
                    #expect(slow.held.now == 2, "the hanging tenant's deliveries were still held meanwhile")
                    #expect(slow.held.most == 2, "never more than its share at once")
                    slow.setHanging(false)
                    try await slow.waitFor("for the hanging tenant's events, once it answers") { $0.json["type"]?.stringValue == "chip.status" }
                }
            } }
        }

        @Test("one delivery at a time per tenant (perTenantConcurrency 1): the events that waited for its slot are delivered too, none settled unsent")
        func oneSlotPerTenant() async throws {
            var webhooks = testWebhooks()
            webhooks.perTenantConcurrency = 1
            try await withTenantReceiver { hooks in try await withAPIRig(.file, webhooks: webhooks) { _, api in
                let key = try #require(try await api.call(.post, "/api/v1/tenants", key: api.admin,
                                                          json: ["name": "narrow", "webhook": ["url": .string(hooks.url)]]).json["apiKey"]?.stringValue)
                // Several chips' events due at once: one claim holds more of them than the tenant's one slot.
                var ids: [String] = []
                for index in 0..<4 {
                    ids.append(try #require(try await api.call(.post, "/api/v1/chips", key: key, json: ["name": .string("n\(index)")]).json["id"]?.stringValue))
                }
                for id in ids { try await api.waitForStatus(id, key: key, "SCAN_QR_CODE") }
                let log = try #require(try await api.call(.get, "/api/v1/events", key: key).json["events"]?.arrayValue)
                let logged = Set(log.compactMap { $0["id"]?.stringValue })
                #expect(logged.count >= 8, "STARTING and SCAN_QR_CODE of each chip")
                try await hooks.waitFor("for every logged event", timeout: .seconds(30)) { _ in
                    Set(hooks.deliveries.compactMap { $0.json["id"]?.stringValue }).isSuperset(of: logged)
                }
            } }
        }

        @Test("a webhook URL that reaches a non-public address is dead-lettered at once, nothing sent; allowedNetworks lets it through",
              arguments: ["127.0.0.1", "localhost"])
        func privateAddresses(host: String) async throws {
            try await withTenantReceiver { hooks in
                let url = hooks.url.replacingOccurrences(of: "127.0.0.1", with: host)
                var closed = testWebhooks()
                closed.allowPrivateNetworks = false
                try await withAPIRig(.file, webhooks: closed) { _, api in
                    let key = try #require(try await api.call(.post, "/api/v1/tenants", key: api.admin,
                                                              json: ["name": "prober", "webhook": ["url": .string(url)]]).json["apiKey"]?.stringValue)
                    #expect(try await api.call(.post, "/api/v1/chips", key: key, json: ["name": "c"]).status == 201)
                    var dead: [JSONValue] = []
                    try await waitUntil("an event dead-lettered") {
                        dead = try await api.call(.get, "/api/v1/dead-letters", key: key).json["deadLetters"]?.arrayValue ?? []
                        return !dead.isEmpty
                    }
                    let reason = dead.first?["lastError"]?.stringValue ?? ""
                    #expect(reason.contains("not a public address"), "\(reason)")
                    #expect(!reason.contains("127.0.0.1") && !reason.contains(host), "the reason names no address: \(reason)")
                    #expect(dead.first?["attempts"]?.numberValue == 1, "not retried")
                    #expect(hooks.deliveries.isEmpty, "nothing reached the receiver")
                }
                var allowed = closed
                allowed.allowedNetworks = [try #require(NetworkRange("127.0.0.0/8")), try #require(NetworkRange("::1"))]
                try await withAPIRig(.file, webhooks: allowed) { _, api in
                    let key = try #require(try await api.call(.post, "/api/v1/tenants", key: api.admin,
                                                              json: ["name": "inside", "webhook": ["url": .string(url)]]).json["apiKey"]?.stringValue)
                    let id = try #require(try await api.call(.post, "/api/v1/chips", key: key, json: ["name": "c"]).json["id"]?.stringValue)
                    try await hooks.waitFor("an allowed network's delivery") { $0.json["chip"]?.stringValue == id }
                }
            }
        }
    }
}
