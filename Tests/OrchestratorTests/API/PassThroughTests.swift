import CurlHTTP
import Foundation
import Hummingbird
import Orchestrator
import Synchronization
import Testing
import WAHAPlusProvider
import WhagoCore
import WhagoRig
import WhagoServer
import WhagoTesting

extension OrchestratorScenarios {
    /// `/api/v1/chips/{id}/waha/{path}`: WAHA's own API for one chip, confined to its session.
    @Suite("WAHA pass-through", .timeLimit(.minutes(5)))
    struct PassThroughTests {
        @Test("the session is forced in the path, the query and the body; worker-wide and life-cycle endpoints are refused; sends are paced; tenants are walled")
        func passThrough() async throws {
            // A gap of an hour between a chip's messages: the send after the first is paced
            // however long the two requests take on a loaded machine.
            try await withAPIRig(.file, limits: LimitsConfig(sending: SendingLimits(minGap: .seconds(3600)))) { rig, api in
                let acme = try await api.call(.post, "/api/v1/tenants", key: api.admin, json: ["name": "acme"])
                let key = try #require(acme.json["apiKey"]?.stringValue)
                let other = try #require(try await api.call(.post, "/api/v1/tenants", key: api.admin, json: ["name": "other"]).json["apiKey"]?.stringValue)
                let chip = try await api.call(.post, "/api/v1/chips", key: key, json: ["name": "sales"])
                let id = try #require(chip.json["id"]?.stringValue)
                try await api.waitForStatus(id, key: key, "SCAN_QR_CODE")
                let waha = "/api/v1/chips/\(id)/waha"

                // The path's session, whatever the tenant wrote there, is the chip's.
                var qr = try await api.call(.get, waha + "/api/default/auth/qr?format=raw", key: key)
                #expect(qr.status == 200, "\(qr.text)")
                #expect(qr.header("X-Whago-Pass-Through") == "waha")
                #expect(qr.header("Content-Security-Policy")?.contains("sandbox") == true)
                // The QR may rotate between the two reads: read both again until they agree.
                for _ in 0..<3 {
                    let ours = try await api.call(.get, "/api/v1/chips/\(id)/qr?format=raw", key: key).json["value"]
                    if qr.json["value"] == ours { break }
                    qr = try await api.call(.get, waha + "/api/default/auth/qr?format=raw", key: key)
                }
                #expect(qr.json["value"] == (try await api.call(.get, "/api/v1/chips/\(id)/qr?format=raw", key: key).json["value"]))
                let session = try await api.call(.get, waha + "/api/sessions/someone-else", key: key)
                #expect(session.status == 200)
                #expect(session.json["name"]?.stringValue == id, "read as the chip's own session: \(session.text)")

                // Refused before they reach the worker: 422 with a reason.
                for (method, path) in [(HTTPClientRequest.Method.get, "/api/server/status"), (.get, "/ping"), (.get, "/api/sessions"),
                                       (.post, "/api/sessions/x/stop"), (.put, "/api/sessions/x"), (.delete, "/api/sessions/x"),
                                       (.get, "/api/x/../sessions"), (.get, "/api/x/%2e%2e/server/status"), (.get, "/api/keys")] {
                    let refused = try await api.call(method, waha + path, key: key, body: method == .post || method == .put ? "{}" : nil)
                    #expect(refused.status == 422, "\(method) \(path): \(refused.status) \(refused.text)")
                    #expect(refused.json["error"]?["code"] == "invalid_request", "\(method) \(path)")
                    #expect(refused.header("X-Whago-Pass-Through") == nil)
                }
                // A path WAHA does not serve: the worker's own 404, passed back.
                let unknown = try await api.call(.get, waha + "/api/default/no-such-thing", key: key)
                #expect(unknown.status == 404)
                #expect(unknown.header("X-Whago-Pass-Through") == "waha")

                // Walls: another tenant's chip is 404, the admin token is not a tenant.
                #expect(try await api.call(.get, waha + "/api/sessions/x", key: other).status == 404)
                #expect(try await api.call(.get, waha + "/api/sessions/x", key: api.admin).status == 401)
                #expect(try await api.call(.get, waha + "/api/sessions/x").status == 401)
                #expect(try await api.call(.get, "/api/v1/chips/chip_none/waha/api/sessions/x", key: key).status == 404)

                // Sending needs a WORKING chip.
                let early = try await api.call(.post, waha + "/api/sendText", key: key, json: ["chatId": "5511999990000@c.us", "text": "hi"])
                #expect(early.status == 409, "\(early.text)")

                // Paired: the query's and the body's session are forced too.
                #expect(try await simulatorScan(rig, chip: chip, value: try #require(qr.json["value"]?.stringValue)) == 200)
                try await api.waitForStatus(id, key: key, "WORKING")
                let phone = try #require(try await api.call(.get, "/api/v1/chips/\(id)", key: key).json["phone"]?.stringValue)

                let exists = try await api.call(.get, waha + "/api/contacts/check-exists?phone=5511988887777&session=someone-else", key: key)
                #expect(exists.status == 200, "\(exists.text)")
                #expect(exists.json["chatId"] == "5511988887777@c.us")
                let implicit = try await api.call(.get, waha + "/api/contacts/check-exists?phone=5511988887777", key: key)
                #expect(implicit.status == 200, "the session is added when absent: \(implicit.text)")

                let sent = try await api.call(.post, waha + "/api/sendText", key: key,
                                              json: ["session": "someone-else", "chatId": "5511999990000@c.us", "text": "hi"])
                #expect(sent.status == 201, "\(sent.text)")
                #expect(sent.json["from"]?.stringValue.map { $0.hasPrefix(phone.filter(\.isNumber)) } == true,
                        "sent from the chip's own session: \(sent.text)")
                let paced = try await api.call(.post, waha + "/api/sendText", key: key, json: ["chatId": "5511999990000@c.us", "text": "again"])
                #expect(paced.status == 429)
                #expect(paced.json["error"]?["code"] == "pacing")
                #expect(paced.header("Retry-After") != nil)

                // A sessionless endpoint needs a JSON object it can put the session in.
                let notJSON = try await api.call(.post, waha + "/api/sendText", key: key, body: "[1, 2]")
                #expect(notJSON.status == 422, "\(notJSON.text)")
            }
        }

        @Test("a worker fetches no URL a tenant names on an internal address: media URLs refused, link previews turned off; allowed, the worker fetches them (as WAHA's fetchBuffer does)")
        func mediaURLs() async throws {
            // WAHA downloads `file.url` in the worker (src/utils/fetch.ts `fetchBuffer`: axios GET, any URL,
            // redirects followed) and GOWS previews a text's link unless `linkPreview` is false
            // (src/core/engines/gows/session.gows.core.ts: `linkPreview: request.linkPreview ?? true`); the
            // simulator does both, so what whago lets through reaches the internal server below.
            let hits = Mutex<[String]>([])
            let router = Router()
            router.get("/**") { request, _ -> Response in
                hits.withLock { $0.append(request.uri.path) }
                return Response(status: .ok, body: ResponseBody(byteBuffer: ByteBuffer(string: "internal")))
            }
            let insideServer = try await LoopbackServer.start(router)
            defer { Task { await insideServer.stop() } }
            let inside = "http://127.0.0.1:\(insideServer.port)"
            let quick = LimitsConfig(sending: SendingLimits(minGap: .milliseconds(1), jitter: .milliseconds(0)))

            func pairedChip(_ rig: OrchestratorRig, _ api: APIClient, _ tenant: String) async throws -> (key: String, id: String) {
                let (key, id) = try await api.tenantWithWaitingChip(tenant, chip: "media")
                let chip = try await api.call(.get, "/api/v1/chips/\(id)", key: key)
                let value = try #require(try await api.call(.get, "/api/v1/chips/\(id)/qr?format=raw", key: key).json["value"]?.stringValue)
                #expect(try await simulatorScan(rig, chip: chip, value: value) == 200)
                try await api.waitForStatus(id, key: key, "WORKING")
                return (key, id)
            }

            try await withAPIRig(.file, limits: quick) { rig, api in
                let (key, id) = try await pairedChip(rig, api, "curious")
                let waha = "/api/v1/chips/\(id)/waha"
                for url in ["\(inside)/metadata", "https://127.0.0.1:\(insideServer.port)/metadata", "https://localhost:\(insideServer.port)/x",
                            "https://[::1]:\(insideServer.port)/x", "https://169.254.169.254/latest/meta-data/", "file:///etc/passwd"] {
                    let refused = try await api.call(.post, waha + "/api/sendImage", key: key,
                                                     json: ["chatId": "5511999990000@c.us", "file": ["url": .string(url), "mimetype": "image/png"]])
                    #expect(refused.status == 422 && refused.code == "invalid_request", "\(url): \(refused.status) \(refused.text)")
                    #expect(refused.text.contains("file.url"), "\(refused.text)")
                }
                let preview = try await api.call(.post, waha + "/api/sendLinkPreview", key: key,
                                                 json: ["chatId": "5511999990000@c.us", "url": .string("\(inside)/docker"), "title": "t"])
                #expect(preview.status == 422, "\(preview.text)")
                let inline = try await api.call(.post, waha + "/api/sendImage", key: key,
                                                json: ["chatId": "5511999990000@c.us", "file": ["data": "aGVsbG8=", "mimetype": "image/png"]])
                #expect(inline.status == 201, "base64 media is not a URL: \(inline.text)")
                // A link to an internal address in a text: sent, without the preview a worker would fetch.
                let text = try await api.call(.post, waha + "/api/sendText", key: key,
                                              json: ["chatId": "5511999990000@c.us", "text": .string("see \(inside)/preview-pass-through")])
                #expect(text.status == 201, "\(text.text)")
                let own = try await api.call(.post, "/api/v1/chips/\(id)/messages", key: key,
                                             json: ["chatId": "5511999990000@c.us", "text": .string("see \(inside)/preview-own-api")])
                #expect(own.status == 201 && own.json["status"] == "sent", "\(own.text)")
            }
            #expect(hits.withLock { $0 }.isEmpty, "nothing reached the internal server: \(hits.withLock { $0 })")

            // Allowed by the deployer: the worker fetches them, so the refusals above were whago's.
            try await withAPIRig(.file, limits: quick, mediaURLs: MediaURLPolicy(allowHTTP: true, addresses: AddressPolicy(allowed: [try #require(NetworkRange("127.0.0.0/8"))]))) { rig, api in
                let (key, id) = try await pairedChip(rig, api, "allowed")
                let waha = "/api/v1/chips/\(id)/waha"
                let image = try await api.call(.post, waha + "/api/sendImage", key: key,
                                               json: ["chatId": "5511999990000@c.us", "file": ["url": .string("\(inside)/image.png"), "mimetype": "image/png"]])
                #expect(image.status == 201, "\(image.text)")
                let text = try await api.call(.post, waha + "/api/sendText", key: key,
                                              json: ["chatId": "5511999990000@c.us", "text": .string("see \(inside)/previewed")])
                #expect(text.status == 201, "\(text.text)")
            }
            #expect(hits.withLock { $0 } == ["/image.png", "/previewed"], "\(hits.withLock { $0 })")
        }

        @Test("no secret comes back through the pass-through: every GET of WAHA's spec is read, the proxy's credentials, the webhook HMAC key and the worker's key masked",
              .enabled(if: (HTTPProxyServer.binary != nil && OpenAPIContract.shared != nil) || TestServices.required))
        func noSecrets() async throws {
            let contract = try #require(OpenAPIContract.shared, "waha-openapi.json")
            // A DataImpulse chip through tinyproxy: its session carries the proxy's login and password.
            let proxy = try await HTTPProxyServer.start(username: "di-login__cr.br", password: "di-pass-Secret-42")
            defer { Task { try? await proxy.stop() } }
            let ports = try PortRange(proxy.port, proxy.port)
            try await withAPIRig(.file, proxy: .dataImpulse(ports: ports, login: "di-login", password: "di-pass-Secret-42")) { rig, api in
                let key = try #require(try await api.call(.post, "/api/v1/tenants", key: api.admin, json: ["name": "curious"]).json["apiKey"]?.stringValue)
                let id = try #require(try await api.call(.post, "/api/v1/chips", key: key, json: ["name": "c"]).json["id"]?.stringValue)
                try await api.waitForStatus(id, key: key, "SCAN_QR_CODE")
                let chip = try #require(try await rig.store.chip(ChipID(id)))
                let worker = try await workerOf(rig, chip)
                let secrets = ["di-pass-Secret-42", "di-login__cr.br", worker.webhookSecret.revealed, worker.apiKey.revealed]

                // The session as WAHA echoes it: its config, masked.
                let session = try await api.call(.get, "/api/v1/chips/\(id)/waha/api/sessions/\(id)", key: key)
                #expect(session.status == 200, "\(session.text)")
                #expect(session.json["config"]?["proxy"]?["password"] == "***", "\(session.text)")
                #expect(session.json["config"]?["proxy"]?["username"] == "***")
                #expect(session.json["config"]?["proxy"]?["server"] == .string("127.0.0.1:\(proxy.port)"), "what is not secret stays")
                #expect(session.json["config"]?["webhooks"]?.arrayValue?.first?["hmac"]?["key"] == "***")
                #expect(session.json["config"]?["metadata"]?["whago.chip"] == .string(id))

                // Every GET the spec has, its parameters filled in: whatever answers, no secret in it.
                guard case .object(let paths)? = contract.spec["paths"] else { Issue.record("no paths in the spec"); return }
                var read = 0
                for (path, item) in paths.sorted(by: { $0.key < $1.key }) where item["get"] != nil && path.hasPrefix("/api/") {
                    let filled = path.split(separator: "/").map { segment in
                        segment.hasPrefix("{") ? (segment == "{session}" ? "default" : "5511999990000@c.us") : String(segment)
                    }.joined(separator: "/")
                    let answer = try await api.call(.get, "/api/v1/chips/\(id)/waha/" + filled + "?session=default", key: key)
                    read += 1
                    for secret in secrets {
                        let encoded = secret.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? secret
                        #expect(!answer.text.contains(secret) && !answer.text.contains(encoded), "GET \(path) (\(answer.status)) shows a secret")
                    }
                }
                #expect(read > 50, "\(read) GET endpoints read")
            }
        }
    }
}
