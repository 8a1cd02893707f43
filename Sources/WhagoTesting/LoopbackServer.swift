public import Hummingbird
import Logging
import ServiceLifecycle

/// An HTTP server in the test process on 127.0.0.1 and a free port: the peer a test needs (a
/// webhook receiver, an IP-echo probe).
///
/// Stop it with ``stop()``, a graceful shutdown: cancelling a Hummingbird server while clients
/// are connected crashes NIO ("Deinited NIOAsyncWriter without calling finish()").
public struct LoopbackServer: Sendable {
    /// The port the server listens on.
    public let port: Int
    private let group: ServiceGroup

    /// Starts serving `router` and returns once the server listens.
    public static func start(_ router: Router<BasicRequestContext>) async throws -> LoopbackServer {
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        var logger = Logger(label: "loopback-server")
        logger.logLevel = .critical
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                              onServerRunning: { continuation.yield($0.localAddress?.port ?? 0) }, logger: logger)
        let group = ServiceGroup(services: [app], gracefulShutdownSignals: [], cancellationSignals: [], logger: logger)
        Task { try await group.run() }
        for await port in ports { return LoopbackServer(port: port, group: group) }
        throw CancellationError()
    }

    /// Stops accepting connections and lets the requests in flight finish.
    public func stop() async {
        await group.triggerGracefulShutdown()
    }
}

/// A request as a test peer keeps it: header fields by name and the whole body.
public struct ReceivedRequest: Sendable {
    public var headers: [String: String]
    public var body: [UInt8]

    /// Reads the request's body (1 MiB at most).
    public init(_ request: Request) async throws {
        var request = request
        let buffer = try await request.collectBody(upTo: 1 << 20)
        var headers: [String: String] = [:]
        for field in request.headers { headers[field.name.rawName] = field.value }
        self.headers = headers
        self.body = Array(buffer.readableBytesView)
    }
}
