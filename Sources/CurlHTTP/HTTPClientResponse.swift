/// A complete HTTP response.
public struct HTTPClientResponse: Sendable {
    /// The status code of the final response (after any `100 Continue`).
    public var status: Int
    /// The final response's header fields, in order.
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]

    public init(status: Int, headers: [(name: String, value: String)], body: [UInt8]) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// The first value of a header field, compared case-insensitively.
    public func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    /// The body as UTF-8 text (invalid bytes replaced).
    public var text: String { String(decoding: body, as: UTF8.self) }
}

/// A response whose body arrives piece by piece: Docker's `/events`, long downloads.
///
/// Iterating ``body`` drives nothing: the transfer runs on the client's thread and the chunks wait
/// in the stream. Stopping the iteration (or cancelling the task that iterates) cancels the transfer.
public struct HTTPClientStreamingResponse: Sendable {
    public var status: Int
    public var headers: [(name: String, value: String)]
    /// The body's chunks as they arrive; ends when the transfer ends, throws ``HTTPClientError``.
    public var body: AsyncThrowingStream<[UInt8], any Error>

    public func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    /// The body split into lines (without their `\n` or `\r\n`), for line-delimited JSON.
    public var lines: HTTPLines<AsyncThrowingStream<[UInt8], any Error>> { HTTPLines(body) }
}
