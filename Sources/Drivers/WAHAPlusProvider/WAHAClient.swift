import CurlHTTP
import Foundation
import WhagoCore

/// Calls to one WAHA worker's HTTP API: the key in `X-Api-Key`, JSON in and out, and WAHA's
/// statuses mapped to ``WhagoError`` codes.
struct WAHAClient: Sendable {
    let http: HTTPClient
    let timeout: Duration

    /// A reply: status, body and content type.
    struct Reply: Sendable {
        var status: Int
        var body: [UInt8]
        var contentType: String?

        var json: JSONValue? { try? JSONDecoder().decode(JSONValue.self, from: Data(body)) }

        /// WAHA's `message` (or `error`), else the body's first characters; the worker is untrusted,
        /// so the text is bounded and free of control characters before it enters an error.
        var message: String {
            if let json, let text = json["message"]?.stringValue ?? json["error"]?.stringValue { return WorkerText.clean(text) }
            return WorkerText.clean(String(decoding: body.prefix(WorkerText.limit), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
        }
    }

    /// Performs one call. Transport failures are `unavailable`; statuses are returned as they are.
    func send(_ method: HTTPClientRequest.Method, _ path: String, on worker: WorkerEndpoint, json: JSONValue? = nil,
              accept: String = "application/json", authenticated: Bool = true) async throws -> Reply {
        var request = HTTPClientRequest(method, worker.baseURL.absoluteString.trimmingSuffix("/") + path,
                                        timeout: timeout, connectTimeout: .seconds(5))
        request.addHeader("Accept", accept)
        if authenticated { request.addHeader("X-Api-Key", worker.apiKey.revealed) }
        if let json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = .sortedKeys
            request.body = Array(try encoder.encode(json))
            request.addHeader("Content-Type", "application/json")
        }
        do {
            let response = try await http.execute(request)
            return Reply(status: response.status, body: response.body, contentType: response.header("Content-Type"))
        } catch let error as HTTPClientError {
            throw WhagoError(.unavailable, "worker \(worker.worker) at \(worker.baseURL.absoluteString) is unreachable: \(error.message)")
        }
    }

    /// The error for a reply that is not a success, per WAHA's conventions.
    static func failure(_ reply: Reply, _ what: String, worker: WorkerEndpoint) -> WhagoError {
        switch reply.status {
        case 401, 403:
            WhagoError(.unauthorized, "worker \(worker.worker) refused whago's API key (\(reply.status)) while \(what)")
        case 404:
            WhagoError(.notFound, "\(what): \(reply.message)")
        case 422:
            WhagoError(.invalidState, "\(what): \(reply.message)" + (reply.json?["status"]?.stringValue.map { " (status \(WorkerText.clean($0, limit: 32)))" } ?? ""))
        case 400:
            WhagoError(.protocolError, "worker \(worker.worker) refused the request while \(what): \(reply.message)")
        case 500...599:
            WhagoError(.unavailable, "worker \(worker.worker) failed (\(reply.status)) while \(what): \(reply.message)")
        default:
            WhagoError(.protocolError, "worker \(worker.worker) answered \(reply.status) while \(what): \(reply.message)")
        }
    }
}

extension String {
    func trimmingSuffix(_ suffix: String) -> String {
        hasSuffix(suffix) ? String(dropLast(suffix.count)) : self
    }
}
