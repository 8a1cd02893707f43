import CurlHTTP
import Foundation
import Testing
import WhagoCore
import WhagoTesting

/// What one client, key or tenant may hold of the HTTP server (`limits.http`), against the rig's
/// real HTTP server.
@Suite("HTTP limits: a hostile client holds only its share", .timeLimit(.minutes(5)))
struct HTTPLimitsTests {
    @Test("failed authentications are limited per client address: past the limit even a right key is 429 auth_failures")
    func authFailures() async throws {
        // The limiter's time stands still: no failure is forgiven while the test counts.
        let frozen = ContinuousClock.now
        try await withAPIRig(.file, limits: LimitsConfig(http: HTTPLimits(authFailuresPerMinute: 3)), rateLimitClock: { frozen }) { _, api in
            let key = try #require(try await api.call(.post, "/api/v1/tenants", key: api.admin, json: ["name": "guessed"]).json["apiKey"]?.stringValue)
            var statuses: [Int] = []
            for attempt in 0..<3 { statuses.append(try await api.call(.get, "/api/v1/chips", key: "wk_guess\(attempt)").status) }
            statuses.append(try await api.call(.get, "/api/v1/tenants", key: "not-the-admin-token").status)
            #expect(statuses == [401, 401, 401, 429], "three failures, then the address is blocked")
            let blocked = try await api.call(.get, "/api/v1/chips", key: key)
            #expect(blocked.status == 429 && blocked.code == "auth_failures", "\(blocked.status) \(blocked.text)")
            #expect(Int(blocked.header("Retry-After") ?? "") ?? 0 >= 1)
            #expect(try await api.call(.get, "/api/v1/tenants", key: api.admin).code == "auth_failures", "the admin token cannot be guessed either")
            #expect(try await api.call(.get, "/healthz").status == 200, "open operations are not limited")
        }
    }

    @Test("event streams: at most eventStreamsPerKey per API key and eventStreams in all, 429 too_many_streams beyond")
    func eventStreams() async throws {
        try await withAPIRig(.file, limits: LimitsConfig(http: HTTPLimits(eventStreamsPerKey: 2, eventStreams: 3))) { _, api in
            let first = try #require(try await api.call(.post, "/api/v1/tenants", key: api.admin, json: ["name": "streamer"]).json["apiKey"]?.stringValue)
            let second = try #require(try await api.call(.post, "/api/v1/tenants", key: api.admin, json: ["name": "other"]).json["apiKey"]?.stringValue)
            let streams = [try await EventStreamClient.open(api, key: first), try await EventStreamClient.open(api, key: first)]
            let stream = [("Accept", "text/event-stream")]
            let third = try await api.call(.get, "/api/v1/events", key: first, headers: stream)
            #expect(third.status == 429 && third.code == "too_many_streams", "\(third.status) \(third.text)")
            #expect(third.text.contains("eventStreamsPerKey"))
            #expect(try await api.call(.get, "/api/v1/events", key: first).status == 200, "polling is not a stream")
            let other = try await EventStreamClient.open(api, key: second)
            let full = try await api.call(.get, "/api/v1/events", key: second, headers: stream)
            #expect(full.status == 429 && full.code == "too_many_streams" && full.text.contains("limits.http.eventStreams"), "\(full.status) \(full.text)")
            #expect(try await api.call(.get, "/api/v1/chips", key: second).status == 200, "the other tenant's calls still answer")
            for open in streams + [other] { await open.close() }
        }
    }

    @Test("with server.metricsToken, /metrics wants it (or the admin token); /healthz and /readyz stay open")
    func metricsToken() async throws {
        let token = "metrics-" + UUID().uuidString
        try await withAPIRig(.file, metricsToken: token) { _, api in
            let anonymous = try await api.call(.get, "/metrics")
            #expect(anonymous.status == 401 && anonymous.code == "unauthorized" && anonymous.text.contains("server.metricsToken"), "\(anonymous.text)")
            #expect(try await api.call(.get, "/metrics", key: "wrong").status == 401)
            let scraped = try await api.call(.get, "/metrics", key: token)
            #expect(scraped.status == 200 && scraped.text.contains("whago_chips{"), "\(scraped.status)")
            #expect(!scraped.text.contains(token))
            #expect(try await api.call(.get, "/metrics", key: api.admin).status == 200)
            #expect(try await api.call(.get, "/healthz").status == 200)
            #expect(try await api.call(.get, "/readyz").status == 200)
        }
        try await withAPIRig(.file) { _, api in
            let open = try await api.call(.get, "/metrics")
            #expect(open.status == 200, "without a token /metrics is open")
        }
    }

    @Test("500 event streams of one tenant: another tenant's calls still answer, and a new event reaches all 500 (read once for them)")
    func manyStreams() async throws {
        try await withAPIRig(.file, limits: LimitsConfig(apiRequestsPerSecond: 1000, http: HTTPLimits(eventStreamsPerKey: 500, eventStreams: 600))) { _, api in
            let busy = try #require(try await api.call(.post, "/api/v1/tenants", key: api.admin, json: ["name": "busy"]).json["apiKey"]?.stringValue)
            let other = try #require(try await api.call(.post, "/api/v1/tenants", key: api.admin, json: ["name": "other"]).json["apiKey"]?.stringValue)
            // A client of their own: the process's shared one stays free for the other tests.
            let client = HTTPClient()
            let streams = try await withThrowingTaskGroup(of: EventStreamClient.self) { group in
                for _ in 0..<500 { group.addTask { try await EventStreamClient.open(api, key: busy, after: "latest", client: client) } }
                return try await group.reduce(into: [EventStreamClient]()) { $0.append($1) }
            }
            #expect(streams.count == 500)
            let listed = try await api.call(.get, "/api/v1/chips", key: other)
            #expect(listed.status == 200, "another tenant's call completes while 500 streams are open")
            let chip = try #require(try await api.call(.post, "/api/v1/chips", key: busy, json: ["name": "watched"]).json["id"]?.stringValue)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for stream in streams {
                    group.addTask { try await stream.waitFor("of the new chip", timeout: .seconds(120)) { $0.data["chip"]?.stringValue == chip } }
                }
                try await group.waitForAll()
            }
            for stream in streams { await stream.close() }
            client.shutdown()
        }
    }

    @Test("past maxConnections a new connection waits, unanswered, until one closes")
    func connectionCap() async throws {
        try await withAPIRig(.file, limits: LimitsConfig(http: HTTPLimits(maxConnections: 2))) { _, api in
            let port = try #require(URL(string: api.base)?.port)
            // Two kept-alive connections the server has surely taken (each answered a request) fill the cap.
            let held = try [LoopbackSocket.connect(port: port), LoopbackSocket.connect(port: port)]
            for socket in held {
                try socket.send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                #expect(try await socket.readSome(timeout: .seconds(30))?.hasPrefix("HTTP/1.1 200") == true)
            }
            let waiting = try LoopbackSocket.connect(port: port)
            defer { waiting.close() }
            try waiting.send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            // Absence can only be watched for a while: a second without an answer.
            #expect(try await waiting.readAnswer(timeout: .seconds(1)) == nil, "not served while the cap is reached")
            for socket in held { socket.close() }
            let answer = try #require(try await waiting.readAnswer(timeout: .seconds(30)), "served once a connection closed")
            #expect(answer.hasPrefix("HTTP/1.1 200"), "\(answer)")
        }
    }

    @Test("a connection that sends half a request and stays silent is closed after idleTimeout")
    func slowHeaders() async throws {
        try await withAPIRig(.file, limits: LimitsConfig(http: HTTPLimits(idleTimeout: .seconds(1)))) { rig, api in
            let port = try #require(URL(string: api.base)?.port)
            let socket = try LoopbackSocket.connect(port: port)
            defer { socket.close() }
            try socket.send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            // The server closes it: the read ends (0 bytes) instead of waiting for its 30 s guard.
            #expect(try await socket.readUntilClosed(timeout: .seconds(30)) == .closed, "the half request's connection was closed")
            #expect(try await api.call(.get, "/healthz").status == 200, "the server still answers")
        }
    }
}
