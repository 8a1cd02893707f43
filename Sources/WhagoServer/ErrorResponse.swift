import Foundation
import HTTPTypes
import Logging
import OpenAPIRuntime
import Orchestrator
import WhagoCore

/// Every error the API answers: `{"error": {"code", "message"}}`, each code with one status
/// (``statuses``), wherever it is raised.
struct ErrorResponse: Error, Sendable {
    var status: HTTPResponse.Status
    var code: String
    var message: String
    /// Seconds, for 429 and 503.
    var retryAfter: TimeInterval?

    /// The one status of each code the API answers with.
    static let statuses: [String: HTTPResponse.Status] = [
        "invalid_json": .badRequest, "invalid_query": .badRequest, "bad_request": .badRequest,
        "unauthorized": .unauthorized,
        "not_found": .notFound,
        "method_not_allowed": .methodNotAllowed,
        "not_acceptable": .notAcceptable,
        "request_timeout": .requestTimeout,
        "invalid_state": .conflict, "conflict": .conflict, "quota_exceeded": .conflict,
        "payload_too_large": .contentTooLarge,
        "uri_too_long": .uriTooLong,
        "unsupported_media_type": .unsupportedMediaType,
        "invalid_request": .unprocessableContent, "invalid_config": .unprocessableContent, "idempotency_conflict": .unprocessableContent,
        "rate_limited": .tooManyRequests, "pacing": .tooManyRequests, "auth_failures": .tooManyRequests,
        "too_many_streams": .tooManyRequests, "too_many_calls": .tooManyRequests,
        "headers_too_large": .init(code: 431),
        "internal": .internalServerError, "corrupt": .internalServerError,
        "not_implemented": .init(code: 501),
        "protocol_error": .badGateway,
        "unavailable": .serviceUnavailable, "capacity_exhausted": .serviceUnavailable, "locked": .serviceUnavailable,
        "timed_out": .gatewayTimeout,
    ]

    /// An error with `code`, answered with that code's status.
    init(_ code: String, _ message: String, retryAfter: TimeInterval? = nil) {
        assert(Self.statuses[code] != nil, "error code \(code) has no status in ErrorResponse.statuses")
        self.status = Self.statuses[code] ?? .internalServerError
        self.code = code
        self.message = message
        self.retryAfter = retryAfter
    }

    /// One of whago's errors: its code and its code's status; a 5xx's message without addresses.
    init(_ error: WhagoError) {
        let code = Self.statuses[error.code.rawValue] == nil ? "internal" : error.code.rawValue
        let status = Self.statuses[code] ?? .internalServerError
        let retry: TimeInterval? = [HTTPResponse.Status.serviceUnavailable, .gatewayTimeout].contains(status) ? 5 : nil
        self.init(code, status.code >= 500 ? Self.withoutAddresses(error.message) : error.message, retryAfter: retry)
    }

    /// The code of a status the HTTP framework or the generated code refused a request with.
    static func code(of status: HTTPResponse.Status) -> String {
        switch status.code {
        case 404: "not_found"
        case 405: "method_not_allowed"
        case 406: "not_acceptable"
        case 408: "request_timeout"
        case 413: "payload_too_large"
        case 414: "uri_too_long"
        case 415: "unsupported_media_type"
        case 431: "headers_too_large"
        case 500...: "internal"
        default: "bad_request"
        }
    }

    /// `message` with every URL and network address (a worker's, a node's) replaced by a
    /// placeholder: a failure's text tells the client what failed, not where whago's workers are
    /// (the full text is in the log, under the request id).
    static func withoutAddresses(_ message: String) -> String {
        var text = message.replacing(/[a-zA-Z][a-zA-Z0-9+.-]*:\/\/[^\s,;)'"]+/, with: "<url>")
        text = text.replacing(/\[[0-9a-fA-F:.]+\](:\d+)?/, with: "<address>")
        text = text.replacing(/\b[0-9a-fA-F]*::[0-9a-fA-F:.]*/, with: "<address>")
        text = text.replacing(/\b\d{1,3}(\.\d{1,3}){3}(:\d+)?\b/, with: "<address>")
        text = text.replacing(/\bport \d{1,5}\b/, with: "port <port>")
        return text
    }

    /// What any error thrown while handling a request becomes. Unexpected ones are 500 with a
    /// generic message (the detail is logged with the request id, never a body or a secret).
    static func from(_ error: any Error, logger: Logger) -> ErrorResponse {
        switch error {
        case let response as ErrorResponse:
            return response
        case let error as WhagoError:
            let response = ErrorResponse(error)
            if response.status.code >= 500 { logger.warning("request failed: \(error.code): \(error.message)") }
            return response
        case let pacing as PacingError:
            return ErrorResponse("pacing", pacing.message, retryAfter: pacing.retryAfter)
        case let error as DecodingError:
            return ErrorResponse("invalid_json", "the body does not match the operation's schema: \(describe(error))")
        case let error as ServerError:
            switch error.underlyingError {
            case is WhagoError, is ErrorResponse, is PacingError, is DecodingError, is ServerError:
                return from(error.underlyingError, logger: logger)
            default: break
            }
            if error.httpStatus.code < 500 {
                return ErrorResponse(code(of: error.httpStatus), "\(error.causeDescription)")
            }
            logger.error("request failed in \(error.operationID): \(error.causeDescription): \(type(of: error.underlyingError))")
            return ErrorResponse("internal", "whago failed to handle the request; see its log for the request id")
        default:
            logger.error("request failed: \(type(of: error)): \(error)")
            return ErrorResponse("internal", "whago failed to handle the request; see its log for the request id")
        }
    }

    /// A decoding error's place and reason, without the value (which may be a secret).
    static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            let keys = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }
            return keys.isEmpty ? "the body" : keys.joined(separator: ".")
        }
        switch error {
        case .keyNotFound(let key, let context): return "\(path(context)): missing '\(key.stringValue)'"
        case .typeMismatch(let type, let context): return "\(path(context)): expected \(type)"
        case .valueNotFound(let type, let context): return "\(path(context)): expected \(type), found null"
        case .dataCorrupted(let context):
            return context.codingPath.isEmpty ? "not valid JSON" : "\(path(context)): \(context.debugDescription)"
        @unknown default: return "invalid"
        }
    }

    var body: [UInt8] {
        let payload = ["error": ["code": code, "message": message]]
        return (try? Array(JSONSerialization.data(withJSONObject: payload, options: [.sortedKeys]))) ?? Array(#"{"error":{"code":"internal","message":""}}"#.utf8)
    }

    /// The response for OpenAPI's middleware chain.
    var openAPIResponse: (HTTPResponse, HTTPBody?) {
        var fields = HTTPFields()
        fields[.contentType] = "application/json; charset=utf-8"
        if let retryAfter { fields[.retryAfter] = String(max(1, Int(retryAfter.rounded(.up)))) }
        return (HTTPResponse(status: status, headerFields: fields), HTTPBody(body))
    }
}
