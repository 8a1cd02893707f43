import CCurl
@testable import CurlHTTP
import Foundation
import Synchronization
import Testing
import WhagoTesting

@Suite("CurlHTTP against a real HTTP server on 127.0.0.1", .timeLimit(.minutes(3)))
struct HTTPClientTests {
    let client = HTTPClient.shared

    @Test("GET returns status, headers and body")
    func get() async throws {
        let response = try await client.execute(HTTPClientRequest(.get, try await TestHTTPServer.baseURL + "/hello"))
        #expect(response.status == 200)
        #expect(response.text == "hello")
        #expect(response.header("content-length") == "5")
        #expect(response.header("Server") == "test")
    }

    @Test("POST, PUT, PATCH and DELETE send their bodies and headers", arguments: [HTTPClientRequest.Method.post, .put, .patch, .delete])
    func methods(method: HTTPClientRequest.Method) async throws {
        let body = Array("{\"chip\":\"\(method)\"}".utf8)
        let response = try await client.execute(HTTPClientRequest(
            method, try await TestHTTPServer.baseURL + "/echo",
            headers: [("Content-Type", "application/json"), ("X-Custom", "a value")], body: body))
        #expect(response.status == 200)
        #expect(response.header("X-Method") == method.rawValue)
        #expect(response.header("X-Content-Type") == "application/json")
        #expect(response.header("X-Custom") == "a value")
        #expect(response.body == body)
    }

    @Test("a POST without a body, and a body without a content type")
    func emptyPost() async throws {
        let empty = try await client.execute(HTTPClientRequest(.post, try await TestHTTPServer.baseURL + "/echo"))
        #expect(empty.status == 200 && empty.body.isEmpty)
        let untyped = try await client.execute(HTTPClientRequest(.put, try await TestHTTPServer.baseURL + "/echo", body: [1, 2, 3]))
        #expect(untyped.header("X-Content-Type") == "none")
        #expect(untyped.body == [1, 2, 3])
    }

    @Test("HTTP error statuses are responses, not errors")
    func statuses() async throws {
        for code in [201, 204, 404, 422, 500] {
            #expect(try await client.execute(HTTPClientRequest(.get, try await TestHTTPServer.baseURL + "/status/\(code)")).status == code)
        }
    }

    @Test("10 MiB bodies go up and come back intact")
    func largeBodies() async throws {
        let size = 10 << 20
        // 10 MiB through a debug-built server on a busy 2-core machine can take more than the
        // client's default 30 s; this test is about integrity, not speed.
        let download = try await client.execute(HTTPClientRequest(.get, try await TestHTTPServer.baseURL + "/bytes/\(size)", timeout: .seconds(300)))
        #expect(download.body.count == size)
        #expect(download.body[size - 1] == UInt8(truncatingIfNeeded: size - 1))
        let upload = TestBytes.pattern(size) { UInt8(truncatingIfNeeded: $0 &* 31) }
        let echoed = try await client.execute(HTTPClientRequest(.post, try await TestHTTPServer.baseURL + "/echo", body: upload, timeout: .seconds(300)))
        #expect(echoed.body == upload)
    }

    @Test("the body limit stops a response that is too large")
    func bodyLimit() async throws {
        let url = try await TestHTTPServer.baseURL + "/bytes/\(2 << 20)"
        await #expect(throws: HTTPClientError.self) {
            try await client.execute(HTTPClientRequest(.get, url, maxBodySize: 1 << 20))
        }
        do {
            _ = try await client.execute(HTTPClientRequest(.get, url, maxBodySize: 1 << 20))
        } catch let error as HTTPClientError {
            #expect(error.kind == .bodyTooLarge)
        }
        let limited = HTTPClient(configuration: { var c = HTTPClient.Configuration(); c.maxBodySize = 1000; return c }())
        defer { limited.shutdown() }
        #expect(try await limited.execute(HTTPClientRequest(.get, try await TestHTTPServer.baseURL + "/bytes/1000")).body.count == 1000)
        let error = await #expect(throws: HTTPClientError.self) {
            try await limited.execute(HTTPClientRequest(.get, try await TestHTTPServer.baseURL + "/bytes/1001"))
        }
        #expect(error?.kind == .bodyTooLarge)
    }

    @Test("200 concurrent requests all complete")
    func concurrent() async throws {
        let base = try await TestHTTPServer.baseURL
        let bodies = try await withThrowingTaskGroup(of: String.self) { group in
            for index in 0..<200 {
                group.addTask {
                    try await client.execute(HTTPClientRequest(.post, base + "/echo", body: Array("request \(index)".utf8))).text
                }
            }
            return try await group.reduce(into: Set<String>()) { $0.insert($1) }
        }
        #expect(bodies == Set((0..<200).map { "request \($0)" }))
    }

    @Test("sequential requests to one host reuse one connection")
    func keepAlive() async throws {
        let client = HTTPClient()
        defer { client.shutdown() }
        let url = try await TestHTTPServer.baseURL + "/port"
        var ports = Set<String>()
        for _ in 0..<20 { ports.insert(try await client.execute(HTTPClientRequest(.get, url)).text) }
        #expect(ports.count == 1)
    }

    @Test("a request that takes too long times out")
    func timeout() async throws {
        let error = await #expect(throws: HTTPClientError.self) {
            try await client.execute(HTTPClientRequest(.get, try await TestHTTPServer.baseURL + "/delay/5000", timeout: .milliseconds(200)))
        }
        #expect(error?.kind == .timedOut)
    }

    @Test("nothing listening is connectionRefused")
    func connectionRefused() async throws {
        let nobody = try RefusingPort()
        let refused = await #expect(throws: HTTPClientError.self) {
            try await client.execute(HTTPClientRequest(.get, nobody.url + "/"))
        }
        #expect(refused?.kind == .connectionRefused)
    }

    /// Mapped without a lookup: resolving an unknown name would send a query to the machine's DNS
    /// server, and tests send nothing beyond 127.0.0.1.
    @Test("libcurl's failures map to kinds: an unknown host is dnsFailed, a refused proxy proxyFailed, TLS tls")
    func failureKinds() {
        #expect(HTTPClientError.from(CURLE_COULDNT_RESOLVE_HOST, detail: "", usingProxy: false, hiding: []).kind == .dnsFailed)
        #expect(HTTPClientError.from(CURLE_COULDNT_CONNECT, detail: "", usingProxy: false, hiding: []).kind == .connectionRefused)
        #expect(HTTPClientError.from(CURLE_COULDNT_CONNECT, detail: "", usingProxy: true, hiding: []).kind == .proxyFailed)
        #expect(HTTPClientError.from(CURLE_PEER_FAILED_VERIFICATION, detail: "", usingProxy: false, hiding: []).kind == .tls)
        let hidden = HTTPClientError.from(CURLE_PROXY, detail: "proxy login s3cret refused", usingProxy: true, hiding: ["s3cret"])
        #expect(hidden.kind == .proxyFailed && !hidden.message.contains("s3cret"))
    }

    @Test("only http and https are spoken, and a header that would split the request is refused before anything is sent")
    func invalidRequests() async throws {
        let base = try await TestHTTPServer.baseURL
        for url in ["file:///etc/passwd", "gopher://127.0.0.1/", "ftp://127.0.0.1/", "dict://127.0.0.1:11211/stat", "127.0.0.1/hello", ""] {
            let error = await #expect(throws: HTTPClientError.self, "\(url)") { try await client.execute(HTTPClientRequest(.get, url)) }
            #expect(error?.kind == .invalidRequest, "\(url)")
        }
        let headers: [(String, String)] = [("X-Evil", "a\r\nX-Injected: 1"), ("X-Evil", "a\nb"), ("X-Evil", "a\u{0}b"),
                                           ("X-Evil\r\nX-Injected", "1"), ("Bad Name", "1"), ("", "1"), ("X:Y", "1")]
        for (name, value) in headers {
            let error = await #expect(throws: HTTPClientError.self) {
                try await client.execute(HTTPClientRequest(.get, base + "/hello", headers: [(name, value)]))
            }
            #expect(error?.kind == .invalidRequest, "\(name.debugDescription): \(value.debugDescription)")
            #expect(error.map { !"\($0)".contains("\r") && !"\($0)".contains("\n") } == true)
        }
        let streamed = await #expect(throws: HTTPClientError.self) { try await client.stream(HTTPClientRequest(.get, "file:///etc/hostname")) }
        #expect(streamed?.kind == .invalidRequest)
        // Schemes are case-insensitive.
        #expect(try await client.execute(HTTPClientRequest(.get, "HTTP" + base.dropFirst(4) + "/hello")).status == 200)
    }

    @Test("a password in the URL never appears in an error")
    func noCredentialInErrors() async throws {
        let nobody = try RefusingPort()
        let error = await #expect(throws: HTTPClientError.self) {
            try await client.execute(HTTPClientRequest(.get, "http://admin:url-s3cret@127.0.0.1:\(nobody.port)/"))
        }
        #expect(error?.kind == .connectionRefused)
        #expect(error.map { !"\($0)".contains("url-s3cret") } == true)
    }

    @Test("cancelling the task cancels the transfer promptly")
    func cancellation() async throws {
        let url = try await TestHTTPServer.baseURL + "/delay/20000"
        let task = Task { try await client.execute(HTTPClientRequest(.get, url, timeout: .seconds(60))) }
        task.cancel()
        // Not cancelled, the request would succeed with "late" after 20 s.
        let error = await #expect(throws: HTTPClientError.self) { try await task.result.get() }
        #expect(error?.kind == .cancelled)
    }

    @Test("a task cancelled mid-transfer stops receiving and the client keeps working")
    func cancellationMidTransfer() async throws {
        let url = try await TestHTTPServer.baseURL + "/drip"
        let (received, signal) = AsyncStream<Void>.makeStream()
        let task = Task {
            var chunks = 0
            let response = try await client.stream(HTTPClientRequest(.get, url, timeout: .seconds(60)))
            for try await _ in response.body {
                chunks += 1
                signal.yield()
            }
            return chunks
        }
        var iterator = received.makeAsyncIterator()
        _ = await iterator.next()
        task.cancel()
        // The server drips 1,500 chunks over 30 s; a cancelled stream ends long before that, either
        // quietly (the iterator saw the cancellation first) or with the transfer's cancelled error.
        switch await task.result {
        case .success(let chunks): #expect(chunks < 1_500)
        case .failure(let error): #expect((error as? HTTPClientError)?.kind == .cancelled)
        }
        #expect(try await client.execute(HTTPClientRequest(.get, try await TestHTTPServer.baseURL + "/hello")).text == "hello")
    }

    @Test("a chunked response is streamed and split into lines")
    func streamingLines() async throws {
        let response = try await client.stream(HTTPClientRequest(.get, try await TestHTTPServer.baseURL + "/lines/500"))
        #expect(response.status == 200)
        var lines: [String] = []
        for try await line in response.lines { lines.append(line) }
        #expect(lines == (0..<500).map { "line \($0)" })
    }

    @Test("requests over a unix socket")
    func unixSocket() async throws {
        let path = try await TestHTTPServer.socketPath
        let response = try await client.execute(HTTPClientRequest(.get, "http://localhost/hello", unixSocketPath: path))
        #expect(response.text == "hello")
        let echoed = try await client.execute(HTTPClientRequest(.post, "http://localhost/echo", body: Array("over the socket".utf8), unixSocketPath: path))
        #expect(echoed.text == "over the socket")
        let streamed = try await client.stream(HTTPClientRequest(.get, "http://localhost/lines/3", unixSocketPath: path))
        var lines: [String] = []
        for try await line in streamed.lines { lines.append(line) }
        #expect(lines == ["line 0", "line 1", "line 2"])
        let missing = await #expect(throws: HTTPClientError.self) {
            try await client.execute(HTTPClientRequest(.get, "http://localhost/hello", unixSocketPath: path + ".missing"))
        }
        #expect(missing?.kind == .connectionRefused)
    }

    @Test("a shut-down client fails new requests as cancelled")
    func shutdown() async throws {
        let client = HTTPClient()
        #expect(try await client.execute(HTTPClientRequest(.get, try await TestHTTPServer.baseURL + "/hello")).status == 200)
        client.shutdown()
        client.shutdown()
        let error = await #expect(throws: HTTPClientError.self) {
            try await client.execute(HTTPClientRequest(.get, try await TestHTTPServer.baseURL + "/hello"))
        }
        #expect(error?.kind == .cancelled)
    }
}

@Suite("CurlHTTP's address filter", .timeLimit(.minutes(3)))
struct AddressFilterTests {
    @Test("the filter sees the address connected to (a name's too) and refuses it before any packet: addressNotAllowed, not a timeout")
    func refused() async throws {
        // A port that accepts and never answers: a connection that got through would time out.
        let silent = try SilentPort()
        let seen = Mutex<[[UInt8]]>([])
        for host in ["127.0.0.1", "localhost"] {
            var request = HTTPClientRequest(.get, "http://\(host):\(silent.port)/", timeout: .seconds(5))
            request.allowsAddress = { address in
                seen.withLock { $0.append(address) }
                return false
            }
            await #expect("\(host)") {
                try await HTTPClient.shared.execute(request)
            } throws: { ($0 as? HTTPClientError)?.kind == .addressNotAllowed }
        }
        #expect(seen.withLock { $0 }.contains([127, 0, 0, 1]), "the filter saw 127.0.0.1")

        var allowed = HTTPClientRequest(.get, try await TestHTTPServer.baseURL + "/hello")
        allowed.allowsAddress = { $0 == [127, 0, 0, 1] }
        #expect(try await HTTPClient.shared.execute(allowed).text == "hello")
    }
}
