import CurlHTTP
import Crypto
import Foundation
import Orchestrator
import Testing
import WhagoCore
import WhagoRig
import WhagoServer
import WhagoTesting

extension OrchestratorScenarios {
    /// What the API refuses, and how: credentials, tenants' walls, bad bodies, limits, forged webhooks.
    @Suite("REST API contract", .timeLimit(.minutes(5)))
    struct APIContractTests {
        @Test("every route is documented, every documented operation answers")
        func routesMatchTheDocument() async throws {
            try await withAPIRig(.file) { rig, api in
                let server = try #require(rig.server)
                let documented = Set(OpenAPIDocument.operations.map { "\($0.method) \($0.path)" })
                #expect(Set(server.routes) == documented, "served but undocumented: \(Set(server.routes).subtracting(documented)); documented but not served: \(documented.subtracting(server.routes))")
                let tenant = try await api.call(.post, "/api/v1/tenants", key: api.admin, json: ["name": "routes"])
                let key = try #require(tenant.json["apiKey"]?.stringValue)
                for operation in OpenAPIDocument.operations {
                    let path = operation.path.replacingOccurrences(of: #"\{[^}]+\}"#, with: "none", options: .regularExpression)
                    let credential = operation.path.hasPrefix("/api/v1/tenants") || operation.path == "/api/v1/workers" ? api.admin : key
                    let answer = try await api.call(.init(rawValue: operation.method), path, key: credential,
                                                    body: operation.method == "GET" || operation.method == "DELETE" ? nil : "{}")
                    let unrouted = answer.status == 405 || (answer.status == 404 && answer.json["error"]?["message"]?.stringValue?.hasPrefix("no route") == true)
                    #expect(!unrouted, "\(operation.method) \(operation.path) is documented but not served: \(answer.status) \(answer.text)")
                    #expect(answer.status < 500, "\(operation.method) \(operation.path): \(answer.status) \(answer.text)")
                }
                #expect(try await api.call(.get, "/openapi.json").json["openapi"] == "3.1.0")
            }
        }

        @Test("the console: / with a strict CSP and no-sniff, /console redirects, assets by name with ETag/304, unknown 404 JSON, POST 405")
        func console() async throws {
            try await withAPIRig(.file) { _, api in
                let page = try await api.call(.get, "/")
                #expect(page.status == 200)
                #expect(page.header("Content-Type") == "text/html; charset=utf-8")
                #expect(page.text.contains(#"<script type="module" src="/assets/app.js">"#))
                let policy = try #require(page.header("Content-Security-Policy"))
                for directive in ["default-src 'none'", "script-src 'self'", "connect-src 'self'", "frame-ancestors 'none'"] {
                    #expect(policy.contains(directive), "\(directive) in \(policy)")
                }
                #expect(!policy.contains("unsafe-inline") && !policy.contains("unsafe-eval"))
                #expect(page.header("X-Content-Type-Options") == "nosniff")
                #expect(page.header("Referrer-Policy") == "no-referrer")
                let redirect = try await api.call(.get, "/console")
                #expect(redirect.status == 302 && redirect.header("Location") == "/")
                let script = try await api.call(.get, "/assets/app.js")
                #expect(script.status == 200 && script.header("Content-Type") == "text/javascript; charset=utf-8")
                #expect(script.header("Content-Security-Policy") == policy)
                let etag = try #require(script.header("ETag"))
                #expect(try await api.call(.get, "/assets/app.js", headers: [("If-None-Match", etag)]).status == 304)
                #expect(try await api.call(.get, "/assets/app.js", headers: [("If-None-Match", "W/" + etag)]).status == 304)
                #expect(try await api.call(.get, "/assets/app.js", headers: [("If-None-Match", "\"other\"")]).status == 200)
                let missing = try await api.call(.get, "/assets/nothing.js")
                #expect(missing.status == 404 && missing.code == "not_found")
                let wrongMethod = try await api.call(.post, "/", body: "{}")
                #expect(wrongMethod.status == 405 && wrongMethod.header("Allow") == "GET")
                // Every module the page imports is served.
                for module in ["api.js", "dom.js", "events.js", "login.js", "chips.js", "chip.js", "create.js", "admin.js", "console.css"] {
                    #expect(try await api.call(.get, "/assets/\(module)").status == 200, "\(module)")
                }
            }
        }

        @Test("GET /api/v1/me says whose credential it is; dead letters answer the admin token with every tenant's")
        func account() async throws {
            try await withAPIRig(.file) { _, api in
                let admin = try await api.call(.get, "/api/v1/me", key: api.admin)
                #expect(admin.status == 200 && admin.json["role"] == "admin" && admin.json["tenant"] == nil)
                let created = try await api.call(.post, "/api/v1/tenants", key: api.admin, json: ["name": "me", "chipLimit": .number(3)])
                let key = try #require(created.json["apiKey"]?.stringValue)
                let tenant = try await api.call(.get, "/api/v1/me", key: key)
                #expect(tenant.status == 200 && tenant.json["role"] == "tenant")
                #expect(tenant.json["tenant"]?["name"] == "me" && tenant.json["chipLimit"] == .number(3))
                #expect(try await api.call(.get, "/api/v1/me", key: key + "x").status == 401)
                #expect(try await api.call(.get, "/api/v1/me").status == 401)
                #expect(try await api.call(.get, "/api/v1/dead-letters", key: api.admin).status == 200)
                #expect(try await api.call(.post, "/api/v1/dead-letters/evt_none/retry", key: api.admin).status == 404)
            }
        }

        @Test("events from now on: ?after=latest pages nothing of the past, and a stream at latest gets only later events")
        func eventsFromNowOn() async throws {
            try await withAPIRig(.file) { _, api in
                let (key, _) = try await api.tenantWithWaitingChip("now", chip: "old")
                let history = try await api.call(.get, "/api/v1/events?after=0", key: key)
                #expect(history.json["events"]?.arrayValue?.isEmpty == false)
                let now = try await api.call(.get, "/api/v1/events?after=latest", key: key)
                #expect(now.status == 200 && now.json["events"]?.arrayValue?.isEmpty == true)
                let cursor = try #require(now.json["next"]?.stringValue)
                #expect(cursor.hasPrefix("c_") && Int64(cursor) == nil, "cursors are opaque: \(cursor)")

                let stream = try await EventStreamClient.open(api, key: key, after: "latest")
                let second = try #require(try await api.call(.post, "/api/v1/chips", key: key, json: ["name": "new"]).json["id"]?.stringValue)
                try await stream.waitFor("of the new chip") { $0.data["chip"]?.stringValue == second }
                #expect(stream.received.allSatisfy { $0.data["chip"]?.stringValue == second }, "nothing of the old chip's history")
                #expect(stream.startedAfter?.hasPrefix("c_") == true, "the first block says where the stream starts")
                await stream.close()
                let page = try await api.call(.get, "/api/v1/events?after=\(cursor)", key: key)
                #expect(page.json["events"]?.arrayValue?.allSatisfy { $0["chip"]?.stringValue == second } == true)
                #expect(try await api.call(.get, "/api/v1/events?after=soon", key: key).status == 400)
            }
        }

        @Test("operations: /metrics in Prometheus text with chips, workers, outbox and request histograms; /readyz 503 naming what is down")
        func operations() async throws {
            try await withAPIRig(.file) { _, api in
                let (key, _) = try await api.tenantWithWaitingChip("observed", chip: "counted")
                let metrics = try await api.call(.get, "/metrics")
                #expect(metrics.status == 200)
                #expect(metrics.header("Content-Type")?.hasPrefix("text/plain") == true)
                for line in [#"whago_chips{status="SCAN_QR_CODE"} 1"#, #"whago_workers{health="#, "whago_outbox_depth ",
                             #"whago_http_request_duration_seconds_bucket{route="/api/v1/chips/{chipId}",method="GET",status="200""#,
                             #"whago_worker_webhooks_total{outcome="accepted"}"#] {
                    #expect(metrics.text.contains(line), "\(line)")
                }
                #expect(!metrics.text.contains(key) && !metrics.text.contains(api.admin), "no secret in the metrics")
                let ready = try await api.call(.get, "/readyz")
                #expect(ready.status == 200)
                #expect(ready.json["checks"]?["store"] == "ok")
            }
            // A runtime that cannot be reached: not ready, and the check says why.
            let directory = try TemporaryDirectory("readyz")
            let range = try freePortRange(count: 2)
            let rig = try await OrchestratorRig.start(OrchestratorRig.Options(
                directory: directory.path, runtime: .docker(socket: directory.file("no-dockerd.sock")),
                ports: try PortRange(range.lowerBound, range.upperBound), settings: testSettings(), api: OrchestratorRig.APIOptions()))
            let api = APIClient(base: try #require(rig.apiURL), admin: "")
            let ready = try await api.call(.get, "/readyz")
            await rig.stop()
            directory.remove()
            #expect(ready.status == 503)
            #expect(ready.json["status"] == "not_ready")
            #expect(ready.json["checks"]?["store"] == "ok")
            #expect(ready.json["checks"]?["runtime"]?.stringValue?.hasPrefix("unavailable") == true, "\(ready.text)")
        }

        @Test("credentials: missing, wrong, revoked or of the wrong kind are 401 JSON; another tenant's chip is 404")
        func credentialsAndTenancy() async throws {
            try await withAPIRig(.file) { _, api in
                let first = try await api.call(.post, "/api/v1/tenants", key: api.admin, json: ["name": "first"])
                let second = try await api.call(.post, "/api/v1/tenants", key: api.admin, json: ["name": "second"])
                let firstKey = try #require(first.json["apiKey"]?.stringValue)
                let secondKey = try #require(second.json["apiKey"]?.stringValue)
                let chip = try await api.call(.post, "/api/v1/chips", key: firstKey, json: ["name": "mine"])
                #expect(chip.status == 201)
                let id = try #require(chip.json["id"]?.stringValue)

                for (key, what) in [(nil, "no credential"), ("wk_nothing.secret", "an unknown key"), (api.admin, "the admin token"),
                                    (firstKey + "x", "a wrong secret")] as [(String?, String)] {
                    let answer = try await api.call(.get, "/api/v1/chips", key: key)
                    #expect(answer.status == 401, "\(what)")
                    #expect(answer.code == "unauthorized", "\(what)")
                }
                #expect(try await api.call(.get, "/api/v1/tenants", key: firstKey).status == 401, "a tenant's key is not the admin token")
                #expect(try await api.call(.get, "/api/v1/tenants").status == 401)
                #expect(try await api.call(.get, "/api/v1/chips", headers: [("X-Api-Key", firstKey)]).status == 200, "X-Api-Key works too")

                // The other tenant sees nothing of it: 404, never 403.
                for (method, path) in [("GET", "/api/v1/chips/\(id)"), ("DELETE", "/api/v1/chips/\(id)"), ("GET", "/api/v1/chips/\(id)/qr"),
                                       ("POST", "/api/v1/chips/\(id)/restart"), ("POST", "/api/v1/chips/\(id)/logout")] {
                    let answer = try await api.call(.init(rawValue: method), path, key: secondKey)
                    #expect(answer.status == 404, "\(method) \(path)")
                    #expect(answer.code == "not_found")
                }
                #expect(try await api.call(.get, "/api/v1/chips", key: secondKey).json["chips"]?.arrayValue?.isEmpty == true)
                #expect(try await api.call(.get, "/api/v1/chips/\(id)", key: firstKey).status == 200, "still there for its owner")

                // Rotation: the new key works, the old one no longer.
                let rotated = try await api.call(.post, "/api/v1/tenants/\(try #require(first.json["tenant"]?["id"]?.stringValue))/keys", key: api.admin)
                let newKey = try #require(rotated.json["apiKey"]?.stringValue)
                #expect(try await api.call(.get, "/api/v1/chips", key: firstKey).status == 401)
                #expect(try await api.call(.get, "/api/v1/chips", key: newKey).status == 200)
                let theirs = try await api.call(.delete, "/api/v1/chips/\(id)", key: secondKey)
                #expect(try await api.call(.delete, "/api/v1/chips/\(id)", key: newKey).status == 204)
                // Deleting a chip that is gone answers as deleting another tenant's: nothing tells them apart.
                let gone = try await api.call(.delete, "/api/v1/chips/\(id)", key: newKey)
                #expect(gone.status == 404 && gone.code == "not_found")
                #expect(gone.json["error"]?["message"] == theirs.json["error"]?["message"], "\(gone.text) vs \(theirs.text)")
            }
        }

        @Test("bad input: malformed JSON 400, invalid values 422, unknown route 404, wrong method 405, too large 413, bad state 409")
        func badInput() async throws {
            try await withAPIRig(.file) { _, api in
                let tenant = try await api.call(.post, "/api/v1/tenants", key: api.admin, json: ["name": "careless"])
                let key = try #require(tenant.json["apiKey"]?.stringValue)
                for body in ["{", "[]", #"{"name": 5}"#, #"{"nom": "x"}"#, ""] {
                    let answer = try await api.call(.post, "/api/v1/chips", key: key, body: body)
                    #expect(answer.status == 400, "\(body): \(answer.text)")
                    #expect(answer.code != nil)
                }
                for body: JSONValue in [["name": "   "], ["name": "a\u{1}b"], ["name": "x", "country": "brazil"], ["name": "x", "city": "São Paulo"]] {
                    let answer = try await api.call(.post, "/api/v1/chips", key: key, json: body)
                    #expect(answer.status == 422, "\(body): \(answer.text)")
                    #expect(answer.code == "invalid_request")
                }
                #expect(try await api.call(.post, "/api/v1/tenants", key: api.admin, json: ["name": "x", "webhook": ["url": "ftp://x"]]).status == 422)
                #expect(try await api.call(.post, "/api/v1/tenants", key: api.admin, json: ["name": "x", "chipLimit": 0]).status == 422)
                let unknown = try await api.call(.get, "/api/v1/nothing-here", key: key)
                #expect(unknown.status == 404)
                #expect(unknown.code == "not_found")
                #expect(try await api.call(.put, "/api/v1/chips", key: key, body: "{}").status == 405)
                let large = try await api.call(.post, "/api/v1/chips", key: key, body: #"{"name": ""# + String(repeating: "x", count: 2 << 20) + #""}"#)
                #expect(large.status == 413)
                #expect(large.code == "payload_too_large")

                let chip = try await api.call(.post, "/api/v1/chips", key: key, json: ["name": "fresh"])
                let id = try #require(chip.json["id"]?.stringValue)
                try await api.waitForStatus(id, key: key, "SCAN_QR_CODE")
                let send = try await api.call(.post, "/api/v1/chips/\(id)/messages", key: key, json: ["chatId": "5511999999999@c.us", "text": "hi"])
                #expect(send.status == 409)
                #expect(send.code == "invalid_state")
                #expect(send.json["error"]?["message"]?.stringValue?.contains("SCAN_QR_CODE") == true)
                #expect(try await api.call(.post, "/api/v1/chips", key: key, json: ["name": "fresh"]).status == 409, "names are unique per tenant")
                #expect(try await api.call(.get, "/api/v1/events?after=minus-one", key: key).status == 400)
            }
        }

        @Test("PATCH a tenant: name and chip limit change (the quota with them), a stale version is refused, a webhook is set with a generated secret shown once, its secret rotated (the old one signs beside the new until the next change), then removed")
        func updateTenant() async throws {
            try await withTenantReceiver { hooks in try await withAPIRig(.file) { _, api in
                let created = try await api.call(.post, "/api/v1/tenants", key: api.admin, json: ["name": "acme", "chipLimit": 5])
                let key = try #require(created.json["apiKey"]?.stringValue)
                let id = try #require(created.json["tenant"]?["id"]?.stringValue)
                let version = try #require(created.json["tenant"]?["version"]?.numberValue)
                let path = "/api/v1/tenants/\(id)"

                // Name and chip limit, at the version read.
                let renamed = try await api.call(.patch, path, key: api.admin, json: ["name": "acme-2", "chipLimit": 1, "version": .number(version)])
                #expect(renamed.status == 200, "\(renamed.text)")
                #expect(renamed.json["tenant"]?["name"] == "acme-2" && renamed.json["tenant"]?["chipLimit"] == 1)
                #expect(renamed.json["tenant"]?["version"]?.numberValue == version + 1)
                #expect(renamed.json["webhookSecret"] == nil, "no secret generated without a webhook")
                let read = try await api.call(.get, path, key: api.admin)
                #expect(read.json["name"] == "acme-2" && read.json["chipLimit"] == 1)
                // The new limit holds.
                #expect(try await api.call(.post, "/api/v1/chips", key: key, json: ["name": "one"]).status == 201)
                let over = try await api.call(.post, "/api/v1/chips", key: key, json: ["name": "two"])
                #expect(over.status == 409 && over.code == "quota_exceeded", "\(over.text)")
                // A stale version is refused and changes nothing.
                let stale = try await api.call(.patch, path, key: api.admin, json: ["name": "late", "version": .number(version)])
                #expect(stale.status == 409 && stale.code == "conflict", "\(stale.text)")
                #expect(try await api.call(.get, path, key: api.admin).json["name"] == "acme-2")

                // A webhook without a secret: one is generated, shown once, and signs the deliveries.
                let hooked = try await api.call(.patch, path, key: api.admin, json: ["chipLimit": 10, "webhook": ["url": .string(hooks.url)]])
                #expect(hooked.status == 200, "\(hooked.text)")
                let generated = Secret(try #require(hooked.json["webhookSecret"]?.stringValue))
                let shown = try await api.call(.get, path, key: api.admin)
                #expect(shown.json["webhook"]?["url"]?.stringValue == hooks.url)
                #expect(!shown.text.contains(generated.revealed), "the secret is never shown again")
                let signing = try await Self.deliveryOfNewChip("two", key: key, api: api, hooks: hooks)
                #expect(TenantWebhookSignature.verify(signing, body: try Self.body(of: signing, in: hooks), secret: generated))

                // A secret of the tenant's own: the generated one signs beside it until the next change.
                let rotated = Secret("tenant-chosen-secret-0001")
                let rotation = try await api.call(.patch, path, key: api.admin, json: ["webhook": ["url": .string(hooks.url), "secret": .string(rotated.revealed)]])
                #expect(rotation.status == 200 && rotation.json["webhookSecret"] == nil, "\(rotation.text)")
                let both = try await Self.deliveryOfNewChip("three", key: key, api: api, hooks: hooks)
                let bothBody = try Self.body(of: both, in: hooks)
                #expect(TenantWebhookSignature.verify(both, body: bothBody, secret: rotated), "signed with the new secret")
                #expect(TenantWebhookSignature.verify(both, body: bothBody, secret: generated), "and with the previous one, during the rotation")
                let newer = Secret("tenant-chosen-secret-0002")
                #expect(try await api.call(.patch, path, key: api.admin, json: ["webhook": ["url": .string(hooks.url), "secret": .string(newer.revealed)]]).status == 200)
                let next = try await Self.deliveryOfNewChip("four", key: key, api: api, hooks: hooks)
                let nextBody = try Self.body(of: next, in: hooks)
                #expect(TenantWebhookSignature.verify(next, body: nextBody, secret: newer))
                #expect(TenantWebhookSignature.verify(next, body: nextBody, secret: rotated), "the one it replaced signs beside it")
                #expect(!TenantWebhookSignature.verify(next, body: nextBody, secret: generated), "the one before that no longer signs")

                // Both at once is refused; removing the webhook keeps events for SSE and polling only.
                let both2 = try await api.call(.patch, path, key: api.admin, json: ["webhook": ["url": .string(hooks.url)], "removeWebhook": true])
                #expect(both2.status == 422 && both2.code == "invalid_request", "\(both2.text)")
                let removed = try await api.call(.patch, path, key: api.admin, json: ["removeWebhook": true])
                #expect(removed.status == 200 && removed.json["tenant"]?["webhook"] == nil, "\(removed.text)")
                #expect(try await api.call(.get, path, key: api.admin).json["webhook"] == nil)
                #expect(try await api.call(.patch, "/api/v1/tenants/ten_nope", key: api.admin, json: ["name": "x"]).status == 404)
                #expect(try await api.call(.patch, path, key: key, json: ["name": "mine"]).status == 401, "a tenant's key cannot change its tenant")
            } }
        }

        /// Creates chip `name` and returns the signature header of the first webhook delivered for it.
        static func deliveryOfNewChip(_ name: String, key: String, api: APIClient, hooks: TenantReceiver) async throws -> String {
            let chip = try #require(try await api.call(.post, "/api/v1/chips", key: key, json: ["name": .string(name)]).json["id"]?.stringValue)
            let delivery = try await hooks.waitFor("an event of chip \(name)") { $0.json["chip"]?.stringValue == chip }
            return try #require(delivery.headers[TenantWebhookSignature.header])
        }

        /// The body of the delivery that carried `signature`.
        static func body(of signature: String, in hooks: TenantReceiver) throws -> [UInt8] {
            try #require(hooks.deliveries.first { $0.headers[TenantWebhookSignature.header] == signature }?.body)
        }

        @Test("a bad query value is 400 invalid_query naming the parameter and what it takes (never invalid_json for a request without a body)")
        func queryErrors() async throws {
            try await withAPIRig(.file) { _, api in
                let key = try #require(try await api.call(.post, "/api/v1/tenants", key: api.admin, json: ["name": "curious"]).json["apiKey"]?.stringValue)
                let id = try #require(try await api.call(.post, "/api/v1/chips", key: key, json: ["name": "one"]).json["id"]?.stringValue)
                let cases: [(String, String)] = [
                    ("/api/v1/chips/\(id)/qr?format=png", "query parameter 'format' must be one of: image, raw (got 'png')"),
                    ("/api/v1/chips?limit=0", "query parameter 'limit' must be an integer from 1 to 500 (got '0')"),
                    ("/api/v1/chips?limit=many", "query parameter 'limit' must be an integer from 1 to 500 (got 'many')"),
                    ("/api/v1/events?after=minus-one", "query parameter 'after' must match ^([0-9]{1,18}|c_[0-9a-f]{16}|latest)$ (got 'minus-one')"),
                ]
                for (path, message) in cases {
                    let answer = try await api.call(.get, path, key: key)
                    #expect(answer.status == 400 && answer.code == "invalid_query", "\(path): \(answer.status) \(answer.text)")
                    #expect(answer.json["error"]?["message"]?.stringValue == message, "\(path): \(answer.text)")
                }
                #expect(try await api.call(.get, "/api/v1/chips?limit=2", key: key).status == 200, "a good value passes")
                let notJSON = try await api.call(.post, "/api/v1/chips", key: key, body: "name=two", headers: [("Content-Type", "text/plain")])
                #expect(notJSON.status == 415 && notJSON.code == "unsupported_media_type", "\(notJSON.status) \(notJSON.text)")
            }
        }

        @Test("the API's address taken while the daemon starts: its service group stops, every loop with it, with the reason")
        func apiAddressTaken() async throws {
            let directory = try TemporaryDirectory("api-taken")
            defer { directory.remove() }
            let taken = try SilentPort()
            let range = try freePortRange(count: 2)
            let options = OrchestratorRig.Options(directory: directory.path, ports: try PortRange(range.lowerBound, range.upperBound),
                                                  settings: testSettings(), api: OrchestratorRig.APIOptions(port: taken.port))
            do {
                let rig = try await OrchestratorRig.start(options)
                await tearDown(rig, directory)
                Issue.record("the API listened on a taken address")
            } catch let error as WhagoError {
                #expect(error.code == .unavailable)
                #expect(error.message == "cannot listen on 127.0.0.1:\(taken.port): address already in use", "\(error)")
            }
        }

        @Test("each API key gets its own token bucket: past the burst, 429 with Retry-After")
        func rateLimit() async throws {
            // The limiter's time stands still: no token comes back however slowly the requests go.
            let frozen = ContinuousClock.now
            try await withAPIRig(.file, limits: LimitsConfig(apiRequestsPerSecond: 1, apiBurst: 3), rateLimitClock: { frozen }) { _, api in
                let first = try #require(try await api.call(.post, "/api/v1/tenants", key: api.admin, json: ["name": "busy"]).json["apiKey"]?.stringValue)
                let second = try #require(try await api.call(.post, "/api/v1/tenants", key: api.admin, json: ["name": "calm"]).json["apiKey"]?.stringValue)
                var statuses: [Int] = []
                for _ in 0..<5 { statuses.append(try await api.call(.get, "/api/v1/chips", key: first).status) }
                #expect(statuses == [200, 200, 200, 429, 429], "the burst of 3, then refused")
                let limited = try await api.call(.get, "/api/v1/chips", key: first)
                #expect(limited.code == "rate_limited")
                #expect(Int(limited.header("Retry-After") ?? "") ?? 0 >= 1)
                #expect(try await api.call(.get, "/api/v1/chips", key: second).status == 200, "another key has its own bucket")
                #expect(try await api.call(.get, "/healthz").status == 200, "operations are not limited")
            }
        }

        @Test("WAHA webhooks: forged or for an unknown worker 401; a replayed one changes nothing")
        func workerWebhooks() async throws {
            try await withAPIRig(.file) { rig, api in
                let key = try #require(try await api.call(.post, "/api/v1/tenants", key: api.admin, json: ["name": "hooked"]).json["apiKey"]?.stringValue)
                let chip = try await api.call(.post, "/api/v1/chips", key: key, json: ["name": "listener"])
                let id = try #require(chip.json["id"]?.stringValue)
                try await api.waitForStatus(id, key: key, "SCAN_QR_CODE")
                let workerID = try #require(chip.json["worker"]?.stringValue)
                let worker = try #require(try await rig.store.worker(WorkerID(workerID)))

                let body = Array(#"{"id":"evt_replayed_1","timestamp":\#(Int(Date().timeIntervalSince1970 * 1000)),"event":"message","session":"\#(id)","metadata":{"whago.chip":"\#(id)"},"payload":{"id":"m1","body":"hello","from":"5511999999999@c.us"}}"#.utf8)
                func post(_ body: [UInt8], signedWith secret: String, to workerID: String) async throws -> Int {
                    let mac = HMAC<SHA512>.authenticationCode(for: body, using: SymmetricKey(data: Array(secret.utf8)))
                    let request = HTTPClientRequest(.post, api.base + "/hooks/waha/\(workerID)", headers: [
                        ("Content-Type", "application/json"), ("X-Webhook-Hmac", Hex.encode(mac)), ("X-Webhook-Hmac-Algorithm", "sha512"),
                        ("X-Webhook-Request-Id", "req-1"),
                    ], body: body)
                    return try await HTTPClient.shared.execute(request).status
                }
                #expect(try await post(body, signedWith: "not the worker's secret", to: worker.id.rawValue) == 401)
                #expect(try await post(body, signedWith: worker.webhookSecret.revealed, to: "wrk_unknown") == 401)
                #expect(try await post(Array("not json".utf8), signedWith: worker.webhookSecret.revealed, to: worker.id.rawValue) == 400)

                #expect(try await post(body, signedWith: worker.webhookSecret.revealed, to: worker.id.rawValue) == 202)
                let deadline = ContinuousClock.now + .seconds(20)
                func messages() async throws -> Int {
                    try await api.call(.get, "/api/v1/events", key: key).json["events"]?.arrayValue?.filter { $0["type"] == "message" }.count ?? 0
                }
                while try await messages() == 0 {
                    guard ContinuousClock.now < deadline else { Issue.record("the signed webhook never became an event"); return }
                    try await Task.sleep(for: .milliseconds(25))
                }
                let duplicatesBefore = rig.orchestrator.counters[.webhookEventsDuplicate]
                #expect(try await post(body, signedWith: worker.webhookSecret.revealed, to: worker.id.rawValue) == 202, "a replay is answered…")
                while rig.orchestrator.counters[.webhookEventsDuplicate] == duplicatesBefore {
                    guard ContinuousClock.now < deadline else { Issue.record("the replay was never applied"); return }
                    try await Task.sleep(for: .milliseconds(25))
                }
                #expect(try await messages() == 1, "… and changes nothing")
            }
        }
    }
}
