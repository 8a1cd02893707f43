import Foundation
import Hummingbird
import HTTPTypes
import NIOCore
import WhagoTesting

/// A request context that knows the client's address, so tests can see connection reuse.
struct TestContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    let remoteAddress: SocketAddress?

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }
}

/// The HTTP servers the client is tested against: one on 127.0.0.1 (a free port) and one on a unix
/// socket, both in this process, both serving the same routes. Started once, on first use.
enum TestHTTPServer {
    /// `http://127.0.0.1:<port>`.
    static var baseURL: String {
        get async throws { "http://127.0.0.1:\(try await tcp.value)" }
    }

    /// The unix socket's path.
    static var socketPath: String {
        get async throws { try await unix.value }
    }

    private static let tcp = Task<Int, any Error> {
        let (stream, continuation) = AsyncStream<Int>.makeStream()
        let app = Application(
            router: makeRouter(),
            configuration: .init(address: .hostname("127.0.0.1", port: 0), serverName: "test"),
            onServerRunning: { channel in
                continuation.yield(channel.localAddress?.port ?? 0)
                continuation.finish()
            }
        )
        Task { try await app.runService(gracefulShutdownSignals: []) }
        for await port in stream { return port }
        throw CancellationError()
    }

    private static let unix = Task<String, any Error> {
        let directory = try TemporaryDirectory("http")
        let path = directory.file("http.sock")
        let (stream, continuation) = AsyncStream<Void>.makeStream()
        let app = Application(
            router: makeRouter(),
            configuration: .init(address: .unixDomainSocket(path: path), serverName: "test-unix"),
            onServerRunning: { _ in
                continuation.yield()
                continuation.finish()
            }
        )
        Task { try await app.runService(gracefulShutdownSignals: []) }
        for await _ in stream { return path }
        throw CancellationError()
    }

    static func makeRouter() -> Router<TestContext> {
        let router = Router(context: TestContext.self)
        router.get("hello") { _, _ in "hello" }
        router.get("port") { _, context in "\(context.remoteAddress?.port ?? -1)" }
        router.get("status/:code") { _, context in
            Response(status: .init(code: try context.parameters.require("code", as: Int.self)), body: .init(byteBuffer: ByteBuffer(string: "status")))
        }
        for method in [HTTPRequest.Method.post, .put, .patch, .delete] {
            router.on("echo", method: method) { request, _ in
                var request = request
                let body = try await request.collectBody(upTo: 64 << 20)
                var headers = HTTPFields()
                headers[HTTPField.Name("X-Method")!] = request.method.rawValue
                headers[HTTPField.Name("X-Content-Type")!] = request.headers[.contentType] ?? "none"
                headers[HTTPField.Name("X-Custom")!] = request.headers[HTTPField.Name("X-Custom")!] ?? "none"
                return Response(status: .ok, headers: headers, body: .init(byteBuffer: body))
            }
        }
        router.get("bytes/:count") { _, context in
            let count = try context.parameters.require("count", as: Int.self)
            return Response(status: .ok, body: .init(byteBuffer: ByteBuffer(bytes: TestBytes.pattern(count) { UInt8(truncatingIfNeeded: $0) })))
        }
        // `count` lines "line <i>", written in chunks that cut lines in the middle.
        router.get("lines/:count") { _, context in
            let count = try context.parameters.require("count", as: Int.self)
            let text = (0..<count).map { "line \($0)\n" }.joined()
            let chunks = stride(from: 0, to: text.utf8.count, by: 7).map { offset in
                ByteBuffer(bytes: Array(text.utf8)[offset..<min(offset + 7, text.utf8.count)])
            }
            return Response(status: .ok, body: ResponseBody { writer in
                for chunk in chunks {
                    try await writer.write(chunk)
                }
                try await writer.finish(nil)
            })
        }
        // Answers after the given number of milliseconds.
        router.get("delay/:ms") { _, context in
            try await Task.sleep(for: .milliseconds(try context.parameters.require("ms", as: Int.self)))
            return "late"
        }
        // A chunk every 20 ms until the client goes away (or 30 s pass).
        router.get("drip") { _, _ in
            Response(status: .ok, body: ResponseBody { writer in
                for index in 0..<1_500 {
                    try await writer.write(ByteBuffer(string: "drop \(index)\n"))
                    try await Task.sleep(for: .milliseconds(20))
                }
                try await writer.finish(nil)
            })
        }
        return router
    }
}
