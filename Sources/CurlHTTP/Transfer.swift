internal import CCurl
import Synchronization

/// One request in flight: its easy handle's callbacks accumulate into it, and its completion resumes
/// the caller.
///
/// Created by the caller, handed to the loop thread under the loop's lock, and from then on touched
/// only by the loop thread (curl's callbacks run inside `curl_multi_perform` on that thread) —
/// except ``cancelRequested``, which is atomic.
final class Transfer: @unchecked Sendable {
    /// How the caller waits for the result.
    enum Delivery {
        /// The whole response at the end.
        case buffered(CheckedContinuation<HTTPClientResponse, any Error>)
        /// Status and headers as soon as they are known, then the body chunk by chunk.
        case streaming(head: CheckedContinuation<HTTPClientStreamingResponse, any Error>?, body: AsyncThrowingStream<[UInt8], any Error>.Continuation,
                       stream: AsyncThrowingStream<[UInt8], any Error>)
    }

    let request: HTTPClientRequest
    let maxBodySize: Int
    var delivery: Delivery?
    let cancelRequested = Atomic<Bool>(false)

    var easy: UnsafeMutableRawPointer?
    var headerList: UnsafeMutablePointer<curl_slist>?
    let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE) + 1)

    var status = 0
    var headers: [(name: String, value: String)] = []
    var body: [UInt8] = []
    var received = 0
    var exceededLimit = false
    /// An address was refused by ``HTTPClientRequest/allowsAddress`` (set on the loop thread).
    var refusedAddress = false

    init(request: HTTPClientRequest, maxBodySize: Int) {
        self.request = request
        self.maxBodySize = request.maxBodySize ?? maxBodySize
        errorBuffer.initialize(to: 0)
    }

    deinit {
        if let headerList { curl_slist_free_all(headerList) }
        errorBuffer.deallocate()
    }

    var isStreaming: Bool {
        if case .streaming = delivery { true } else { false }
    }

    // MARK: Callbacks (loop thread)

    /// A header line; a new status line starts a new response (after `100 Continue` or a proxy's
    /// `CONNECT` answer), and the blank line ends the headers.
    func receiveHeader(_ line: UnsafeBufferPointer<UInt8>) {
        var end = line.count
        while end > 0, line[end - 1] == UInt8(ascii: "\n") || line[end - 1] == UInt8(ascii: "\r") { end -= 1 }
        let text = Substring(String(decoding: UnsafeBufferPointer(rebasing: line[..<end]), as: UTF8.self))
        if text.hasPrefix("HTTP/") {
            headers = []
            status = text.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 0
        } else if text.isEmpty {
            if !(100...199).contains(status) { deliverHead() }
        } else if let colon = text.firstIndex(of: ":") {
            let name = String(text[..<colon])
            let value = text[text.index(after: colon)...].drop(while: { $0 == " " || $0 == "\t" })
            headers.append((name, String(value)))
        }
    }

    /// A piece of the body; returns `false` to make libcurl abort the transfer.
    func receiveBody(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        received += bytes.count
        switch delivery {
        case .streaming(_, let continuation, _):
            deliverHead()
            continuation.yield(Array(bytes))
        default:
            guard received <= maxBodySize else {
                exceededLimit = true
                return false
            }
            body.append(contentsOf: bytes)
        }
        return true
    }

    /// Resumes a streaming caller with the status and headers, once.
    private func deliverHead() {
        guard case .streaming(let head?, let continuation, let stream) = delivery else { return }
        delivery = .streaming(head: nil, body: continuation, stream: stream)
        head.resume(returning: HTTPClientStreamingResponse(status: status, headers: headers, body: stream))
    }

    // MARK: Completion (loop thread)

    /// Resumes the caller with the outcome of the transfer; called exactly once.
    func complete(_ result: Result<Void, HTTPClientError>) {
        var result = result
        if exceededLimit {
            result = .failure(HTTPClientError(.bodyTooLarge, message: "the response body is larger than the \(maxBodySize) bytes accepted"))
        }
        switch (delivery, result) {
        case (.buffered(let continuation), .success):
            continuation.resume(returning: HTTPClientResponse(status: status, headers: headers, body: body))
        case (.buffered(let continuation), .failure(let error)):
            continuation.resume(throwing: error)
        case (.streaming(let head, let continuation, let stream), .success):
            head?.resume(returning: HTTPClientStreamingResponse(status: status, headers: headers, body: stream))
            continuation.finish()
        case (.streaming(let head?, let continuation, _), .failure(let error)):
            head.resume(throwing: error)
            continuation.finish(throwing: error)
        case (.streaming(nil, let continuation, _), .failure(let error)):
            continuation.finish(throwing: error)
        case (nil, _):
            break
        }
        delivery = nil
    }

    /// The secrets libcurl's messages must never show.
    var secrets: [String] {
        [request.proxy?.password].compactMap { $0 } + Self.urlPassword(request.url)
    }

    private static func urlPassword(_ url: String) -> [String] {
        guard let schemeEnd = url.firstRange(of: "://") else { return [] }
        let authority = url[schemeEnd.upperBound...].prefix(while: { $0 != "/" })
        guard let at = authority.lastIndex(of: "@"), let colon = authority[..<at].firstIndex(of: ":") else { return [] }
        return [String(authority[authority.index(after: colon)..<at])]
    }
}
