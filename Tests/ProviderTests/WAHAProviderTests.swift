import Crypto
import CurlHTTP
import Foundation
import Hummingbird
import Testing
@testable import WAHAPlusProvider
import WhagoCore
import WhagoTesting

private let chip = ChipSpec(chip: "chip_alpha", tenant: "t1")

@Suite("The waha-plus driver against whago waha-sim", .timeLimit(.minutes(10)))
struct WAHAProviderTests {
    let provider = WAHAPlusProvider(requestTimeout: .seconds(20))

    @Test("the worker gets WAHA_API_KEY as sha512 of a key only whago knows; the key works, another is refused")
    func apiKey() async throws {
        let key = "k-\(UUID().uuidString)"
        let nobody = try RefusingPort()
        let template = provider.workerTemplate(WorkerContext(worker: "w9", tenant: "t1", hostPort: 3100, apiKey: Secret(key),
                                                             webhookURL: URL(string: "\(nobody.url)/hook")!))
        let expected = SHA512.hash(data: Array(key.utf8)).map { String(format: "%02x", $0) }.joined()
        #expect(template.environment["WAHA_API_KEY"] == "sha512:\(expected)")
        #expect(!template.environment.values.contains(key))
        #expect(template.environment["WAHA_WORKER_ID"] == "w9")
        #expect(template.environment["WAHA_PRINT_QR"] == "False")
        #expect(template.dataPath == "/app/.sessions")

        let worker = try await Worker.launch(provider, apiKey: key)
        defer { Task { await worker.stop() } }
        let health = try await provider.health(of: worker.endpoint)
        #expect(health.reachable)
        #expect(health.version?.hasPrefix("WAHA ") == true)
        let quick = try await provider.health(of: worker.endpoint, version: false)
        #expect(quick.reachable && quick.version == nil, "a probe that knows the version does not read it again")
        var wrong = worker.endpoint
        wrong.apiKey = Secret("not-the-key")
        await #expect { try await provider.status(of: chip.chip, on: wrong) } throws: { ($0 as? WhagoError)?.code == .unauthorized }
    }

    @Test("a worker nobody listens on is unreachable in health and unavailable in calls")
    func unreachable() async throws {
        let nobody = try RefusingPort()
        let endpoint = WorkerEndpoint(worker: "gone", baseURL: URL(string: nobody.url)!, apiKey: Secret("k"))
        #expect(try await provider.health(of: endpoint).reachable == false)
        await #expect { try await provider.status(of: chip.chip, on: endpoint) } throws: { ($0 as? WhagoError)?.code == .unavailable }
    }

    @Test("workerTemplate is a pure function of its context")
    func templatePurity() {
        let context = WorkerContext(worker: "w1", tenant: "t1", hostPort: 3100, apiKey: Secret("k1"), webhookURL: URL(string: "http://127.0.0.1:1/h")!)
        #expect(provider.workerTemplate(context) == provider.workerTemplate(context))
        #expect(WAHAPlusProvider(requestTimeout: .seconds(20)).workerTemplate(context) == provider.workerTemplate(context), "another instance")
        var other = context
        other.apiKey = Secret("k2")
        #expect(provider.workerTemplate(other) != provider.workerTemplate(context))
    }

    @Test("a worker that answers 5xx is unavailable; one whose answer cannot be read is a protocol_error, its text bounded")
    func misbehavingWorkers() async throws {
        let worker = try await Worker.launch(provider)
        defer { Task { await worker.stop() } }
        let faults = HTTPClientRequest(.post, worker.endpoint.baseURL.absoluteString + "/_sim/faults", headers: [("Content-Type", "application/json"), ("X-Api-Key", worker.endpoint.apiKey.revealed)],
                                       body: Array(#"{"errorRate": 1}"#.utf8))
        #expect(try await HTTPClient.shared.execute(faults).status == 200)
        await #expect { try await provider.status(of: chip.chip, on: worker.endpoint) } throws: { ($0 as? WhagoError)?.code == .unavailable }

        // A worker is third-party code: a garbled session, and an error message full of control
        // characters and far too long.
        let router = Router()
        router.get("/api/sessions/:name") { _, _ in "{not json" }
        router.post("/api/sessions/:name/restart") { _, _ in
            Response(status: .internalServerError, headers: [.contentType: "application/json"],
                     body: .init(byteBuffer: ByteBuffer(string: #"{"message":"boom\n2026-01-01 FAKE LOG LINE\u001b[31m"# + String(repeating: "x", count: 5_000) + #""}"#)))
        }
        let liar = try await LoopbackServer.start(router)
        defer { Task { await liar.stop() } }
        let endpoint = WorkerEndpoint(worker: "liar", baseURL: URL(string: "http://127.0.0.1:\(liar.port)")!, apiKey: Secret("k"))
        await #expect { try await provider.status(of: chip.chip, on: endpoint) } throws: { ($0 as? WhagoError)?.code == .protocolError }
        let error = await #expect(throws: WhagoError.self) { try await provider.restart(chip.chip, on: endpoint) }
        #expect(error?.code == .unavailable)
        #expect(error.map { !$0.message.contains("\n") && !$0.message.contains("\u{1B}") && $0.message.utf8.count < 1_000 } == true, "\(String(describing: error))")
    }

    @Test("a health check of a worker that accepts connections and never answers returns, unreachable")
    func silentWorker() async throws {
        let silent = try SilentPort()
        let impatient = WAHAPlusProvider(requestTimeout: .seconds(2))
        let endpoint = WorkerEndpoint(worker: "silent", baseURL: URL(string: silent.url)!, apiKey: Secret("k"))
        let health = try await impatient.health(of: endpoint)
        #expect(health.reachable == false)
        #expect(health.detail?.contains("unreachable") == true, "\(String(describing: health.detail))")
    }

    @Test("ensureSession creates once, leaves a right session alone, updates a changed one; QR, scan, send, stop, logout, delete")
    func sessionLifecycle() async throws {
        let peer = LoopbackPeer()
        try await peer.start()
        defer { Task { await peer.stop() } }
        let worker = try await Worker.launch(provider, timeScale: 1)
        defer { Task { await worker.stop() } }
        let webhook = WebhookTarget(url: await peer.hookURL, secret: Secret("hook-secret-1"))

        #expect(try await provider.status(of: chip.chip, on: worker.endpoint) == nil)
        try await provider.ensureSession(chip, on: worker.endpoint, proxy: nil, webhook: webhook)
        try await waitForStatus(provider, chip.chip, on: worker.endpoint, .scanQRCode)
        let sessions = try await HTTPClient.shared.execute(HTTPClientRequest(.get, worker.endpoint.baseURL.absoluteString + "/api/sessions?all=true",
                                                                           headers: [("X-Api-Key", worker.endpoint.apiKey.revealed)]))
        let list = try JSONDecoder().decode(JSONValue.self, from: Data(sessions.body))
        #expect(list.arrayValue?.count == 1)
        #expect(list.arrayValue?.first?["config"]?["metadata"]?["whago.tenant"]?.stringValue == "t1")
        #expect(list.arrayValue?.first?["config"]?["metadata"]?["whago.chip"]?.stringValue == "chip_alpha")

        // The same config again: no restart. The simulator delivers a session's webhooks in order,
        // so once the first start's SCAN_QR_CODE is in, so is its STARTING; and a restart by the
        // unchanged ensure would send a STARTING signed with the first secret before the update's,
        // which are signed with the second one.
        let provider = self.provider
        /// Distinct events (by their signed id: a delivery WAHA retried counts once) of `status`
        /// signed with `secret` (the decoded status: a payload also lists earlier statuses).
        @Sendable func signed(_ webhooks: [LoopbackPeer.Webhook], _ secret: Secret, _ status: ChipStatus) -> Int {
            Set(webhooks.flatMap { received in
                ((try? provider.decodeWebhook(body: received.body, headers: received.headers, secret: secret, now: Date())) ?? [])
                    .filter { $0.status == status }.map(\.id)
            }).count
        }
        try await peer.waitForWebhooks("the first start's SCAN_QR_CODE") { signed($0, webhook.secret, .scanQRCode) == 1 }
        let startsBefore = signed(await peer.webhooks, webhook.secret, .starting)
        #expect(startsBefore == 1)
        try await provider.ensureSession(chip, on: worker.endpoint, proxy: nil, webhook: webhook)
        #expect(try await provider.status(of: chip.chip, on: worker.endpoint)?.status == .scanQRCode)
        // A new webhook secret: the session is updated (and so restarted), still one session.
        let rotated = WebhookTarget(url: webhook.url, secret: Secret("hook-secret-2"))
        try await provider.ensureSession(chip, on: worker.endpoint, proxy: nil, webhook: rotated)
        try await peer.waitForWebhooks("STARTING and SCAN_QR_CODE signed with the new secret") { webhooks in
            signed(webhooks, rotated.secret, .starting) == 1 && signed(webhooks, rotated.secret, .scanQRCode) == 1
        }
        #expect(signed(await peer.webhooks, webhook.secret, .starting) == startsBefore, "the unchanged ensure restarted the session")
        try await waitForStatus(provider, chip.chip, on: worker.endpoint, .scanQRCode)

        let code = try await provider.requestPairingCode(for: chip.chip, phoneNumber: "+55 11 99999-9999", on: worker.endpoint)
        #expect(!code.isEmpty)
        let qr = try await provider.qrCode(of: chip.chip, on: worker.endpoint)
        #expect(qr.png.starts(with: [0x89, 0x50, 0x4E, 0x47]))
        #expect(Data(base64Encoded: qr.base64).map(Array.init) == qr.png)
        let value = try #require(qr.value)
        // Only the part asked for: the value alone, the image alone.
        let valueOnly = try await provider.qrCode(of: chip.chip, on: worker.endpoint, parts: .value)
        #expect(valueOnly.png.isEmpty && valueOnly.value?.hasPrefix("waha-sim://") == true, "(the code may have rotated meanwhile)")
        let imageOnly = try await provider.qrCode(of: chip.chip, on: worker.endpoint, parts: .image)
        #expect(imageOnly.value == nil && imageOnly.png.starts(with: [0x89, 0x50, 0x4E, 0x47]))
        let scan = try await ChildProcess.run(WhagoBinary.path, ["waha-sim", "scan", value])
        #expect(scan.status == 0, "\(scan.stderr)")
        let working = try await waitForStatus(provider, chip.chip, on: worker.endpoint, .working)
        #expect(working?.phone != nil)
        #expect(working?.pushName?.hasPrefix("Simulated ") == true, "the profile name, from WAHA's me.pushName")

        await #expect { try await provider.qrCode(of: chip.chip, on: worker.endpoint) } throws: { error in
            guard let error = error as? WhagoError else { return false }
            return error.code == .invalidState && error.message.contains("not waiting for a scan") && error.message.contains("WORKING")
        }
        let sent = try await provider.sendText(OutgoingText(chatID: "5511988887777@c.us", text: "hello"), from: chip.chip, on: worker.endpoint)
        #expect(sent.messageID?.isEmpty == false)

        try await provider.stop(chip.chip, on: worker.endpoint)
        #expect(try await provider.status(of: chip.chip, on: worker.endpoint)?.status == .stopped)
        await #expect { try await provider.sendText(OutgoingText(chatID: "1@c.us", text: "x"), from: chip.chip, on: worker.endpoint) } throws: {
            ($0 as? WhagoError)?.code == .invalidState
        }
        // ensureSession starts a stopped session again.
        try await provider.ensureSession(chip, on: worker.endpoint, proxy: nil, webhook: rotated)
        try await waitForStatus(provider, chip.chip, on: worker.endpoint, .working)
        try await provider.logout(chip.chip, on: worker.endpoint)
        try await waitForStatus(provider, chip.chip, on: worker.endpoint, .scanQRCode)
        try await provider.restart(chip.chip, on: worker.endpoint)
        try await provider.delete(chip.chip, on: worker.endpoint)
        try await provider.delete(chip.chip, on: worker.endpoint)
        #expect(try await provider.status(of: chip.chip, on: worker.endpoint) == nil)
        try await provider.stop(chip.chip, on: worker.endpoint)
        try await provider.logout(chip.chip, on: worker.endpoint)
        await #expect { try await provider.restart(chip.chip, on: worker.endpoint) } throws: { ($0 as? WhagoError)?.code == .notFound }
    }

    @Test("the worker's webhooks decode into chip events with their signed ids; a replay with fresh headers, or a signed but malformed body, is refused")
    func webhooks() async throws {
        let peer = LoopbackPeer()
        try await peer.start()
        defer { Task { await peer.stop() } }
        let worker = try await Worker.launch(provider)
        defer { Task { await worker.stop() } }
        let secret = Secret("hook-secret-\(UUID().uuidString)")
        try await provider.ensureSession(chip, on: worker.endpoint, proxy: nil, webhook: WebhookTarget(url: await peer.hookURL, secret: secret))
        try await peer.waitForWebhooks("a SCAN_QR_CODE status webhook") { webhooks in
            webhooks.contains { String(decoding: $0.body, as: UTF8.self).contains("SCAN_QR_CODE") }
        }
        let received = try #require(await peer.webhooks.first { String(decoding: $0.body, as: UTF8.self).contains("SCAN_QR_CODE") })
        let events = try provider.decodeWebhook(body: received.body, headers: received.headers, secret: secret, now: Date())
        #expect(events.count == 1)
        #expect(events.first?.chip == chip.chip)
        #expect(events.first?.kind == .statusChanged)
        #expect(events.first?.status == .scanQRCode)
        #expect(events.first?.id.rawValue.hasPrefix("evt_") == true)

        func refused(_ body: [UInt8], _ headers: [String: String], now: Date = Date()) -> WhagoError.Code? {
            do {
                _ = try provider.decodeWebhook(body: body, headers: headers, secret: secret, now: now)
                return nil
            } catch {
                return (error as? WhagoError)?.code
            }
        }
        // A changed body, another secret and a stale timestamp: SessionProviderConformance.webhookSignatures.
        // Replayed: the captured body with a fresh, unsigned X-Webhook-Timestamp and request id is
        // still as old as its signed timestamp, and its events keep their signed ids (so the
        // receiver's dedupe window drops them).
        var fresh = received.headers.filter { !["x-webhook-timestamp", "x-webhook-request-id"].contains($0.key.lowercased()) }
        fresh["X-Webhook-Timestamp"] = "\(Int64(Date().addingTimeInterval(7200).timeIntervalSince1970 * 1000))"
        fresh["X-Webhook-Request-Id"] = UUID().uuidString
        #expect(refused(received.body, fresh, now: Date().addingTimeInterval(7200)) == .unauthorized, "a replay with a fresh header")
        #expect(try provider.decodeWebhook(body: received.body, headers: fresh, secret: secret, now: Date()).map(\.id) == events.map(\.id),
                "a replay inside the window decodes to the same signed ids")
        #expect(refused(received.body, received.headers.filter { $0.key.lowercased() != "x-webhook-hmac" }) == .unauthorized, "no signature")

        // Correctly signed but malformed, or of an event whago does not follow.
        func signed(_ text: String) -> ([UInt8], [String: String]) {
            let body = Array(text.utf8)
            let mac = HMAC<SHA512>.authenticationCode(for: body, using: SymmetricKey(data: Array(secret.revealed.utf8)))
            return (body, ["X-Webhook-Hmac": mac.map { String(format: "%02x", $0) }.joined(), "X-Webhook-Hmac-Algorithm": "sha512",
                           "X-Webhook-Timestamp": "\(Int64(Date().timeIntervalSince1970 * 1000))"])
        }
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        let garbage = signed("{not json")
        #expect(refused(garbage.0, garbage.1) == .protocolError)
        let noTimestamp = signed(#"{"id":"evt_0","event":"message","session":"chip_alpha","payload":{}}"#)
        #expect(refused(noTimestamp.0, noTimestamp.1) == .unauthorized, "only the signed timestamp counts")
        let noID = signed(#"{"timestamp":\#(now),"event":"message","session":"chip_alpha","payload":{}}"#)
        #expect(refused(noID.0, noID.1) == .protocolError, "only the signed id counts")
        let noEvent = signed(#"{"id":"evt_0","timestamp":\#(now),"session":"chip_alpha"}"#)
        #expect(refused(noEvent.0, noEvent.1) == .protocolError)
        let other = signed(#"{"id":"evt_1","timestamp":\#(now),"event":"presence.update","session":"chip_alpha","payload":{}}"#)
        #expect(try provider.decodeWebhook(body: other.0, headers: other.1, secret: secret, now: Date()).isEmpty)
        let message = signed(#"{"id":"evt_2","timestamp":\#(now),"event":"message","session":"chip_alpha","metadata":{"whago.chip":"chip_alpha"},"payload":{"body":"hi"}}"#)
        let decoded = try provider.decodeWebhook(body: message.0, headers: message.1, secret: secret, now: Date())
        #expect(decoded.map(\.kind) == [.message])
        #expect(decoded.first?.payload["body"]?.stringValue == "hi")

        // Whatever a signed body holds, decoding ends in events or a WhagoError, never a crash.
        var generator = TestRandom("the webhook decoder's random signed bodies")
        let pieces = ["{", "}", "[", "]", "\"event\"", ":", ",", "\"session\"", "\"payload\"", "null", "1e999", "\"status\"", "\"\\u0000\"", "\u{1F600}"]
        for _ in 0..<300 {
            let text = (0..<Int.random(in: 0...12, using: &generator)).map { _ in pieces.randomElement(using: &generator)! }.joined()
            let (body, headers) = signed(text)
            do {
                _ = try provider.decodeWebhook(body: body, headers: headers, secret: secret, now: Date())
            } catch {
                #expect(error is WhagoError, "\(text)")
            }
        }
    }

    @Test("sendText tolerates each engine's answer shape")
    func messageIDShapes() throws {
        func id(_ json: String) throws -> String? { WAHAPlusProvider.messageID(try JSONDecoder().decode(JSONValue.self, from: Data(json.utf8))) }
        #expect(try id(#"{"id":"true_1@c.us_ABC","body":"hi"}"#) == "true_1@c.us_ABC")
        #expect(try id(#"{"id":{"_serialized":"true_1@c.us_DEF","fromMe":true}}"#) == "true_1@c.us_DEF")
        #expect(try id(#"{"key":{"remoteJid":"1@s.whatsapp.net","fromMe":true,"id":"3EB0"},"status":"PENDING"}"#) == "3EB0")
        #expect(try id("{}") == nil)
    }

    @Test("WAHA statuses map onto chip statuses; passkey steps wait like a QR code")
    func statuses() {
        #expect(WAHAPlusProvider.chipStatus("WORKING") == .working)
        #expect(WAHAPlusProvider.chipStatus("PASSKEY_REQUIRED") == .scanQRCode)
        #expect(WAHAPlusProvider.chipStatus("SOMETHING_NEW") == .failed)
        #expect(WAHAPlusProvider.chipStatus("PROVISIONING") == .failed, "a whago status is never read from WAHA")
    }

    @Test("a WAHA Core before 2026.6.1 is reported as single-session")
    func serverVersions() {
        #expect(ServerVersion(.object(["version": "2025.3.1", "tier": "CORE", "engine": "GOWS"])).multiSessionWarning != nil)
        #expect(ServerVersion(.object(["version": "2026.7.1", "tier": "CORE", "engine": "GOWS"])).multiSessionWarning == nil)
        #expect(ServerVersion(.object(["version": "2025.3.1", "tier": "PLUS", "engine": "GOWS"])).multiSessionWarning == nil)
    }
}

@Suite("The waha-plus driver's requests against WAHA's OpenAPI spec", .enabled(if: OpenAPIContract.shared != nil || TestServices.required), .timeLimit(.minutes(10)))
struct WAHARequestContractTests {
    private func contract() throws -> OpenAPIContract {
        try #require(OpenAPIContract.shared, "waha-openapi.json not found beside the repository (../shared/reference) nor at $WHAGO_WAHA_OPENAPI")
    }

    private func config(engine: WAHAPlusConfiguration.Engine = .gows) throws -> JSONValue {
        var configuration = WAHAPlusConfiguration()
        configuration.engine = engine
        return try SessionConfig.make(
            ChipSpec(chip: "chip_alpha", tenant: "t1"),
            proxy: ProxyEndpoint(scheme: .http, host: "gw.example", port: 10001, username: "u__cr.br", password: Secret("p")),
            webhook: WebhookTarget(url: URL(string: "http://127.0.0.1:8080/hook/w1")!, secret: Secret("s")),
            configuration
        )
    }

    @Test("create, update, sendText and request-code bodies conform")
    func bodies() throws {
        let contract = try contract()
        let config = try config()
        #expect(contract.requestViolations(of: WAHARequests.createSession(name: "chip_alpha", config: config), "POST", "/api/sessions") == [])
        #expect(contract.requestViolations(of: WAHARequests.updateSession(config: config), "PUT", "/api/sessions/{session}") == [])
        #expect(contract.requestViolations(of: WAHARequests.sendText(session: "chip_alpha", OutgoingText(chatID: "1@c.us", text: "hi")),
                                           "POST", "/api/sendText") == [])
        #expect(contract.requestViolations(of: WAHARequests.requestCode(phoneNumber: "5511999999999"),
                                           "POST", "/api/{session}/auth/request-code") == [])
        #expect(!contract.requestViolations(of: .object(["chatId": "1@c.us"]), "POST", "/api/sendText").isEmpty, "the validator does reject")
    }

    @Test("the proxy is in WAHA's form per engine: host:port for HTTP, https://host:port for HTTPS, credentials beside it (percent-encoded for GOWS, which glues them into a URL)")
    func proxyForms() throws {
        let config = try config()
        #expect(config["proxy"] == .object(["server": "gw.example:10001", "username": "u__cr.br", "password": "p"]))
        #expect(config["webhooks"]?.arrayValue?.first?["events"] == .array(["session.status", "message", "message.ack"]))
        #expect(config["webhooks"]?.arrayValue?.first?["retries"]?["policy"]?.stringValue == "exponential")
        #expect(config["metadata"]?["whago.config"]?.stringValue?.count == 16)

        let awkward = ProxyEndpoint(scheme: .http, host: "gw.example", port: 10002, username: "whago@user", password: Secret("p@ss:w/rd%41#?"))
        // GOWS: getProxyUrl builds http://<username>:<password>@<server> verbatim (WAHA 2026.2,
        // src/core/engines/gows/session.gows.core.ts); Go's url.Parse decodes the user information.
        #expect(try SessionConfig.proxyConfig(awkward, engine: .gows)
                == .object(["server": "gw.example:10002", "username": "whago%40user", "password": "p%40ss%3Aw%2Frd%2541%23%3F"]))
        // NOWEB sets them on a URL object (its setters encode); WEBJS hands them to Chromium as they are.
        for engine in [WAHAPlusConfiguration.Engine.noweb, .webjs] {
            #expect(try SessionConfig.proxyConfig(awkward, engine: engine)
                    == .object(["server": "gw.example:10002", "username": "whago@user", "password": "p@ss:w/rd%41#?"]))
        }
        let https = ProxyEndpoint(scheme: .https, host: "gw.example", port: 10003, username: nil, password: nil)
        #expect(try SessionConfig.proxyConfig(https, engine: .noweb) == .object(["server": "https://gw.example:10003"]))
        #expect(try SessionConfig.proxyConfig(ProxyEndpoint(scheme: .http, host: "::1", port: 3128, username: nil, password: nil), engine: .noweb)
                == .object(["server": "[::1]:3128"]))
    }

    @Test("a proxy protocol the engine cannot use is refused before any worker is asked, naming the engine and what to give it",
          arguments: WAHAPlusConfiguration.Engine.allCases)
    func refusedSchemes(engine: WAHAPlusConfiguration.Engine) {
        let socks = ProxyEndpoint(scheme: .socks5, host: "gw.example", port: 10001, username: "u", password: Secret("p"))
        let error = #expect(throws: WhagoError.self) { try SessionConfig.proxyConfig(socks, engine: engine) }
        #expect(error?.code == .invalidConfig)
        #expect(error?.message.contains("WAHA's \(engine.rawValue) engine cannot use a socks5 proxy") == true, "\(String(describing: error))")
        #expect(error?.message.contains("give it http") == true)
        #expect(error?.message.contains("gw.example") == false, "no endpoint in the message")
        if engine == .gows {
            #expect(throws: WhagoError.self) { try SessionConfig.proxyConfig(ProxyEndpoint(scheme: .https, host: "gw", port: 1, username: nil, password: nil), engine: .gows) }
        }
    }
}
