/// whago's one HTTP client: libcurl's multi interface driven by a dedicated thread.
///
/// Every outgoing call goes through it — the Docker socket, WAHA workers, proxy checks, tenant
/// webhooks. Requests from any task are multiplexed on one `CURLM`, connections are kept alive and
/// reused per host (or unix socket), and cancelling the calling task aborts the transfer at once.
///
/// ```swift
/// let client = HTTPClient()
/// let response = try await client.execute(HTTPClientRequest(.get, "http://localhost/v1.47/_ping",
///                                                     unixSocketPath: "/var/run/docker.sock"))
/// ```
public final class HTTPClient: Sendable {
    /// Defaults that apply to every request that does not set its own.
    public struct Configuration: Sendable {
        /// The most response body bytes accepted (default 16 MiB); larger bodies fail with
        /// ``HTTPClientError/Kind/bodyTooLarge`` instead of exhausting memory.
        public var maxBodySize = 16 << 20
        /// The whole transfer's time limit.
        public var timeout: Duration = .seconds(30)
        /// The time limit to connect.
        public var connectTimeout: Duration = .seconds(10)
        /// The most connections to one host at once; 0 means no limit.
        public var maxConnectionsPerHost = 0

        public init() {}
    }

    /// A client shared by the whole process.
    public static let shared = HTTPClient()

    public let configuration: Configuration
    private let loop: CurlLoop

    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
        self.loop = CurlLoop(configuration: configuration)
    }

    deinit { loop.shutdown() }

    /// Performs a request and returns the complete response. Any HTTP status is a response; only
    /// transport failures and invalid requests (see ``HTTPClientError/Kind/invalidRequest``) throw,
    /// as ``HTTPClientError``.
    public func execute(_ request: HTTPClientRequest) async throws -> HTTPClientResponse {
        if let invalid = request.validationError { throw invalid }
        let transfer = Transfer(request: request, maxBodySize: configuration.maxBodySize)
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                transfer.delivery = .buffered(continuation)
                loop.start(transfer)
            }
        } onCancel: {
            loop.cancel(transfer)
        }
    }

    /// Performs a request and returns as soon as the status and headers are in; the body follows as
    /// a stream of chunks. The body limit does not apply.
    public func stream(_ request: HTTPClientRequest) async throws -> HTTPClientStreamingResponse {
        if let invalid = request.validationError { throw invalid }
        let transfer = Transfer(request: request, maxBodySize: .max)
        let loop = self.loop
        let (stream, continuation) = AsyncThrowingStream<[UInt8], any Error>.makeStream()
        continuation.onTermination = { termination in
            if case .cancelled = termination { loop.cancel(transfer) }
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { head in
                transfer.delivery = .streaming(head: head, body: continuation, stream: stream)
                loop.start(transfer)
            }
        } onCancel: {
            loop.cancel(transfer)
        }
    }

    /// Aborts every transfer in flight and stops the client's thread. Requests made afterwards fail
    /// with ``HTTPClientError/Kind/cancelled``. Idempotent.
    public func shutdown() {
        loop.shutdown()
    }
}
