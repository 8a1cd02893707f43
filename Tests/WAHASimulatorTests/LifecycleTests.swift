import Crypto
import CurlHTTP
import Foundation
import Testing
import WhagoCore
import WhagoTesting
@testable import WAHASimulator

@Suite("The simulator behaves as WAHA", .timeLimit(.minutes(10)))
struct LifecycleTests {
    @Test("API key: 401 with WAHA's body, excluded paths open, hashed keys accepted")
    func apiKey() async throws {
        let simulator = try await Simulator.start { $0.apiKey = APIKey.hashedForm(of: "plain-secret") }
        defer { simulator.stop() }
        let refused = try await simulator.call(.get, "/api/sessions", key: nil)
        #expect(refused.status == 401)
        #expect(refused.json == .object(["message": "Unauthorized", "statusCode": .number(401)]))
        #expect(try await simulator.call(.get, "/api/sessions", key: "wrong").status == 401)
        #expect(try await simulator.call(.get, "/api/sessions", key: "plain-secret").status == 200)
        #expect(try await simulator.call(.get, "/ping", key: nil).json == .object(["message": "pong"]))
        #expect(try await simulator.call(.post, "/_sim/sessions/x/pair", key: nil).status == 401)
        // Only the header: a key in a query string would end up in access logs.
        #expect(try await simulator.call(.get, "/api/sessions?x-api-key=plain-secret", key: nil).status == 401)
    }

    @Test("sessions: 201 on create, 422 on a duplicate, 404 when unknown, STOPPED only with all=true")
    func sessionEndpoints() async throws {
        let simulator = try await Simulator.start()
        defer { simulator.stop() }
        #expect(try await simulator.call(.post, "/api/sessions", json: .object(["name": "a"])).status == 201)
        let duplicate = try await simulator.call(.post, "/api/sessions", json: .object(["name": "a"]))
        #expect(duplicate.status == 422)
        #expect(duplicate.json?["message"]?.stringValue == "Session 'a' already exists. Use PUT to update it.")
        #expect(try await simulator.call(.post, "/api/sessions", json: .object(["name": "b", "start": .bool(false)])).json?["status"] == "STOPPED")
        for (method, path) in [(HTTPClientRequest.Method.get, "/api/sessions/nope"), (.put, "/api/sessions/nope"), (.delete, "/api/sessions/nope"),
                               (.post, "/api/sessions/nope/start"), (.get, "/api/nope/auth/qr")] {
            let response = try await simulator.call(method, path)
            #expect(response.status == 404, "\(method) \(path)")
            #expect(response.json?["message"] == "Session not found")
        }
        #expect(try await simulator.call(.get, "/api/sessions").json?.arrayCount == 1)
        #expect(try await simulator.call(.get, "/api/sessions?all=true").json?.arrayCount == 2)
        let generated = try await simulator.call(.post, "/api/sessions", json: .object(["start": .bool(false)]))
        #expect(generated.json?["name"]?.stringValue?.hasPrefix("session_") == true)
        #expect(try await simulator.call(.delete, "/api/sessions/b").status == 200)
        #expect(try await simulator.call(.get, "/api/sessions/b").status == 404)
        #expect(try await simulator.call(.post, "/api/sessions", json: .object(["name": "bad name!"])).status == 400)
        #expect(try await simulator.call(.post, "/api/sessions", json: nil, headers: [("Content-Type", "application/json")]).status == 201)
    }

    @Test("QR: PNG by default, base64 JSON with Accept: application/json, the value with format=raw; 422 unless SCAN_QR_CODE")
    func qrFormats() async throws {
        let simulator = try await Simulator.start()
        defer { simulator.stop() }
        try await simulator.call(.post, "/api/sessions", json: .object(["name": "q"]))
        // Waiting for the status first keeps a stalled machine from turning the QR wait into a 422.
        try await simulator.waitForStatus("q", "SCAN_QR_CODE")
        let png = try await simulator.call(.get, "/api/q/auth/qr")
        #expect(png.status == 200)
        #expect(png.header("Content-Type") == "image/png")
        #expect(Array(png.body.prefix(8)) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        let json = try await simulator.call(.get, "/api/q/auth/qr", headers: [("Accept", "application/json")])
        #expect(json.json?["mimetype"] == "image/png")
        #expect(json.json?["data"]?.stringValue.flatMap { Data(base64Encoded: $0) }.map { Array($0.prefix(4)) } == [0x89, 0x50, 0x4E, 0x47])
        let raw = try await simulator.call(.get, "/api/q/auth/qr?format=raw").json?["value"]?.stringValue
        #expect(raw?.hasPrefix("waha-sim://127.0.0.1:\(simulator.port)/q/") == true)
        let code = try await simulator.call(.post, "/api/q/auth/request-code", json: .object(["phoneNumber": "5511999990000"]))
        #expect(code.status == 201)
        #expect(code.json?["code"]?.stringValue?.wholeMatch(of: /[A-Z0-9]{4}-[A-Z0-9]{4}/) != nil)

        try await simulator.call(.post, "/_sim/sessions/q/pair")
        let refused = try await simulator.call(.get, "/api/q/auth/qr")
        #expect(refused.status == 422)
        #expect(refused.json == .object([
            "error": "Session status is not as expected. Try again later or restart the session",
            "session": "q", "status": "WORKING", "expected": .array(["SCAN_QR_CODE"]),
        ]))
        #expect(try await simulator.call(.post, "/api/q/auth/request-code", json: .object(["phoneNumber": "5511"])).status == 422)
    }

    @Test("the QR image decodes (zbarimg) to the raw value", .enabled(if: LifecycleTests.zbarimg != nil || TestServices.required))
    func qrScannable() async throws {
        let zbarimg = try #require(LifecycleTests.zbarimg, Comment(rawValue: TestServices.missing("zbarimg (zbar-tools)")))
        let simulator = try await Simulator.start()
        defer { simulator.stop() }
        try await simulator.call(.post, "/api/sessions", json: .object(["name": "scan-me"]))
        try await simulator.waitForStatus("scan-me", "SCAN_QR_CODE")
        // The PNG and the value of one QR code: read again when the code rotated in between.
        var png: [UInt8] = []
        var raw: String?
        for _ in 0..<5 {
            let before = try await simulator.call(.get, "/api/scan-me/auth/qr?format=raw").json?["value"]?.stringValue
            png = try await simulator.call(.get, "/api/scan-me/auth/qr").body
            raw = try await simulator.call(.get, "/api/scan-me/auth/qr?format=raw").json?["value"]?.stringValue
            if raw == before { break }
        }
        let directory = try TemporaryDirectory("qr")
        defer { directory.remove() }
        try Data(png).write(to: URL(fileURLWithPath: directory.file("qr.png")))
        let decoded = try await ChildProcess.run(zbarimg, ["--quiet", "--raw", directory.file("qr.png")])
        #expect(decoded.status == 0)
        #expect(decoded.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == raw)
    }

    static let zbarimg: String? = ["/usr/bin/zbarimg", "/usr/local/bin/zbarimg"].first { FileManager.default.isExecutableFile(atPath: $0) }

    @Test("sendText: 422 unless WORKING, then WAHA's message and a message.ack webhook")
    func sendText() async throws {
        let receiver = WebhookReceiver()
        try await receiver.start()
        defer { Task { await receiver.stop() } }
        let simulator = try await Simulator.start()
        defer { simulator.stop() }
        try await simulator.call(.post, "/api/sessions", json: .object(["name": "s", "config": webhookConfig(await receiver.url)]))
        let send: JSONValue = .object(["session": "s", "chatId": "5511999990000@c.us", "text": "hi"])
        let early = try await simulator.call(.post, "/api/sendText", json: send)
        #expect(early.status == 422)
        #expect(early.json?["expected"] == .array(["WORKING"]))
        try await simulator.waitForStatus("s", "SCAN_QR_CODE")
        try await simulator.call(.post, "/_sim/sessions/s/pair", json: .object(["phone": "5511912345678"]))
        let sent = try await simulator.call(.post, "/api/sendText", json: send)
        #expect(sent.status == 201)
        #expect(sent.json?["body"] == "hi")
        #expect(sent.json?["from"] == "5511912345678@c.us")
        let id = try #require(sent.json?["id"]?.stringValue)
        try await receiver.wait { received in
            received.contains { $0.json?["event"] == "message.ack" && $0.json?["payload"]?["id"]?.stringValue == id }
        }
        try await simulator.call(.post, "/_sim/sessions/s/inbound", json: .object(["from": "5511977776666@c.us", "body": "olá"]))
        try await receiver.wait { received in
            received.contains { $0.json?["event"] == "message" && $0.json?["payload"]?["body"] == "olá" }
        }
        #expect(try await simulator.call(.get, "/api/sessions/s/me").json?["id"] == "5511912345678@c.us")
    }

    @Test("with a time scale: six QR codes, then FAILED")
    func qrBudget() async throws {
        let receiver = WebhookReceiver()
        try await receiver.start()
        defer { Task { await receiver.stop() } }
        let simulator = try await Simulator.start { $0.timeScale = 100 }
        defer { simulator.stop() }
        try await simulator.call(.post, "/api/sessions", json: .object(["name": "unscanned", "config": webhookConfig(await receiver.url, events: ["session.status"])]))
        try await receiver.wait(timeout: .seconds(30)) { received in
            received.contains { $0.json?["payload"]?["status"] == "FAILED" }
        }
        #expect(await receiver.statuses(of: "unscanned") == ["STARTING"] + Array(repeating: "SCAN_QR_CODE", count: 6) + ["FAILED"])
        try await simulator.waitForStatus("unscanned", "FAILED")
        #expect(try await simulator.call(.post, "/api/sessions/unscanned/restart").json?["status"] == "STARTING")
    }

    @Test("webhooks: WAHA's envelope and headers, a valid HMAC, retried after a 500")
    func webhooks() async throws {
        let receiver = WebhookReceiver(failFirst: 1)
        try await receiver.start()
        defer { Task { await receiver.stop() } }
        let simulator = try await Simulator.start { $0.workerID = "worker-7" }
        defer { simulator.stop() }
        try await simulator.call(.post, "/api/sessions", json: .object(["name": "hooked", "config": webhookConfig(await receiver.url, events: ["session.status"])]))
        try await receiver.wait { received in received.filter(\.accepted).count >= 2 }
        let all = await receiver.received
        let first = try #require(all.first)
        #expect(!first.accepted)
        #expect(all[1].accepted)
        #expect(all[1].body == first.body, "the retry sends the same event")
        #expect(all[1].headers["X-Webhook-Request-Id"] == first.headers["X-Webhook-Request-Id"])
        let envelope = try #require(first.json)
        #expect(envelope["event"] == "session.status")
        #expect(envelope["session"] == "hooked")
        #expect(envelope["id"]?.stringValue?.wholeMatch(of: /evt_[0-9a-z]{26}/) != nil)
        #expect(envelope["metadata"] == .object(["whago.chip": "chip-1"]))
        #expect(envelope["engine"] == "GOWS")
        #expect(envelope["environment"]?["worker"]?["id"] == "worker-7")
        #expect(envelope["payload"]?["name"] == "hooked")
        #expect(envelope["payload"]?["status"] == "STARTING")
        #expect(envelope["payload"]?["statuses"]?.arrayCount == 1)
        #expect(first.headers["X-Webhook-Hmac-Algorithm"] == "sha512")
        #expect(first.headers["X-Webhook-Hmac"] == WebhookSignature.hmacSHA512(body: first.body, key: "hook-secret"))
        #expect(first.headers["X-Webhook-Timestamp"].flatMap(Int64.init) != nil)
        #expect(first.headers["X-Tenant"] == "t-42")
        #expect(first.headers["Content-Type"] == "application/json")
        // Delivered in order: STARTING (retried) before SCAN_QR_CODE.
        try await receiver.wait { received in received.filter(\.accepted).count >= 2 }
        #expect(Array(await receiver.statuses(of: "hooked").prefix(2)) == ["STARTING", "SCAN_QR_CODE"])
    }

    @Test("a dead proxy makes the session FAILED with the reason")
    func deadProxy() async throws {
        let receiver = WebhookReceiver()
        try await receiver.start()
        defer { Task { await receiver.stop() } }
        let simulator = try await Simulator.start()
        defer { simulator.stop() }
        let deadProxy = try RefusingPort()
        let config = webhookConfig(await receiver.url, events: ["session.status"],
                                   extra: ["proxy": .object(["server": .string("127.0.0.1:\(deadProxy.port)")])])
        try await simulator.call(.post, "/api/sessions", json: .object(["name": "walled", "config": config]))
        try await simulator.waitForStatus("walled", "FAILED")
        try await receiver.wait { received in received.contains { $0.json?["payload"]?["status"] == "FAILED" } }
        let failed = await receiver.received.compactMap(\.json).first { $0["payload"]?["status"] == "FAILED" }
        #expect(failed?["payload"]?["data"]?["reason"]?.stringValue?.contains("proxy http://127.0.0.1:\(deadProxy.port) failed") == true)
    }

    @Test("SOCKS5 (microsocks, no authentication): WEBJS's Chromium goes through it to SCAN_QR_CODE; GOWS makes http://socks5://… of it and is FAILED",
          .enabled(if: SOCKSServer.binary != nil || TestServices.required))
    func socksProxy() async throws {
        let socks = try await SOCKSServer.start()
        defer { Task { try? await socks.stop() } }
        let proxy: JSONValue = .object(["server": .string("socks5://127.0.0.1:\(socks.port)")])
        for (engine, status) in [("WEBJS", "SCAN_QR_CODE"), ("GOWS", "FAILED")] {
            let simulator = try await Simulator.start { $0.engine = engine }
            defer { simulator.stop() }
            try await simulator.call(.post, "/api/sessions", json: .object(["name": "proxied", "config": .object(["proxy": proxy])]))
            try await simulator.waitForStatus("proxied", status)
        }
    }

    @Test("the virtual phone: a current QR pairs without a key; a replaced one is 410")
    func virtualPhone() async throws {
        let simulator = try await Simulator.start()
        defer { simulator.stop() }
        try await simulator.call(.post, "/api/sessions", json: .object(["name": "phone"]))
        try await simulator.waitForStatus("phone", "SCAN_QR_CODE")
        let value = try #require(try await simulator.call(.get, "/api/phone/auth/qr?format=raw").json?["value"]?.stringValue)
        let paired = try await simulator.call(.post, "/_sim/scan", json: .object(["qr": .string(value)]), key: nil)
        #expect(paired.status == 200)
        #expect(paired.json?["status"] == "WORKING")
        let again = try await simulator.call(.post, "/_sim/scan", json: .object(["qr": .string(value)]), key: nil)
        #expect(again.status == 410)
        #expect(try await simulator.call(.post, "/_sim/scan", json: .object(["qr": "nonsense"]), key: nil).status == 400)
        try await simulator.call(.post, "/api/sessions/phone/logout")
        try await simulator.waitForStatus("phone", "SCAN_QR_CODE")
        // No account after the logout: WAHA's getMe gives null, which Nest sends as an empty 200.
        let me = try await simulator.call(.get, "/api/sessions/phone/me")
        #expect(me.status == 200 && me.body.isEmpty)
    }

    @Test("the fail control makes a session FAILED; restart brings it back")
    func failControl() async throws {
        let simulator = try await Simulator.start()
        defer { simulator.stop() }
        try await simulator.call(.post, "/api/sessions", json: .object(["name": "doomed"]))
        let failed = try await simulator.call(.post, "/_sim/sessions/doomed/fail", json: .object(["reason": "engine crashed"]))
        #expect(failed.json?["status"] == "FAILED")
        try await simulator.call(.post, "/api/sessions/doomed/restart")
        try await simulator.waitForStatus("doomed", "SCAN_QR_CODE")
        #expect(try await simulator.call(.post, "/_sim/sessions/nope/fail").status == 404)
    }

    @Test("a webhook with absurd retry settings is clamped, never a crash: a refused delivery is retried an hour later at most, not never and not at once")
    func absurdRetries() async throws {
        // An hour of the simulator's time is a second of the test's.
        let simulator = try await Simulator.start { $0.timeScale = 3600 }
        defer { simulator.stop() }
        let receiver = WebhookReceiver(failFirst: 1)
        try await receiver.start()
        let retries: JSONValue = .object(["policy": "exponential", "delaySeconds": .number(1e300), "attempts": .number(1_000_000_000)])
        try await simulator.call(.post, "/api/sessions", json: .object(["name": "absurd", "config": webhookConfig(await receiver.url, retries: retries)]))
        try await receiver.wait(timeout: .seconds(30)) { $0.count >= 2 }
        let received = await receiver.received
        #expect(received.first?.accepted == false && received.dropFirst().first?.accepted == true)
        #expect(received.count >= 2 && received[1].body == received[0].body, "the retry is the refused delivery again")
        // The delay clamped to an hour, less the jitter's 20 % at most: 0.8 s or more here.
        if received.count >= 2 {
            #expect(received[1].receivedAt - received[0].receivedAt >= .milliseconds(800), "retried at once: the delay was not clamped but lost")
        }
        #expect(try await simulator.call(.get, "/ping", key: nil).status == 200)
        await receiver.stop()
    }

    @Test("faults: injected 5xx answers and latency, outside /_sim")
    func faults() async throws {
        let simulator = try await Simulator.start()
        defer { simulator.stop() }
        try await simulator.call(.post, "/_sim/faults", json: .object(["errorRate": .number(1)]))
        #expect(try await simulator.call(.get, "/api/sessions").status == 500)
        #expect(try await simulator.call(.post, "/_sim/faults", json: .object(["errorRate": .number(0), "latencyMs": .number(1)])).status == 200)
        #expect(try await simulator.call(.get, "/api/sessions").status == 200)
        // Absurd numbers are clamped, never a crash: latency to 60 s at most, the rate to 0...1.
        let clamped = try await simulator.call(.post, "/_sim/faults", json: .object(["errorRate": .number(1e300), "latencyMs": .number(1e300)]))
        #expect(clamped.json == .object(["errorRate": .number(1), "latencyMs": .number(60_000)]))
        let reset = try await simulator.call(.post, "/_sim/faults", json: .object(["errorRate": .number(-5), "latencyMs": .number(-1e300)]))
        #expect(reset.json == .object(["errorRate": .number(0), "latencyMs": .number(0)]))
        #expect(try await simulator.call(.get, "/api/sessions").status == 200, "the simulator is still serving")
    }
}
