import Foundation
import HTTPTypes
import Logging
import OpenAPIRuntime
import Orchestrator
import WhagoCore

/// Every error the API answers: `{"error": {"code", "message"}}` with a status that fits the code.
struct ErrorResponse: Error, Sendable {
    var status: HTTPResponse.Status
    var code: String
    var message: String
    /// Seconds, for 429 and 503.
    var retryAfter: TimeInterval?

    init(_ status: HTTPResponse.Status, _ code: String, _ message: String, retryAfter: TimeInterval? = nil) {
        self.status = status
        self.code = code
        self.message = message
        self.retryAfter = retryAfter
    }

    /// The status of each of whago's error codes.
    init(_ error: WhagoError) {
        let status: HTTPResponse.Status = switch error.code {
        case .invalidRequest, .invalidConfig, .idempotencyConflict: .unprocessableContent
        case .unauthorized: .unauthorized
        case .notFound: .notFound
        case .conflict, .invalidState, .quotaExceeded: .conflict
        case .capacityExhausted, .unavailable, .locked: .serviceUnavailable
        case .timedOut: .gatewayTimeout
        case .protocolError: .badGateway
        case .notImplemented: .init(code: 501)
        default: .internalServerError
        }
        let retry: TimeInterval? = [HTTPResponse.Status.serviceUnavailable, .gatewayTimeout].contains(status) ? 5 : nil
        self.init(status, error.code.rawValue, status.code >= 500 ? Self.withoutAddresses(error.message) : error.message, retryAfter: retry)
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
            return ErrorResponse(.tooManyRequests, "pacing", pacing.message, retryAfter: pacing.retryAfter)
        case let error as DecodingError:
            return ErrorResponse(.badRequest, "invalid_json", "the body does not match the operation's schema: \(describe(error))")
        case let error as ServerError:
            switch error.underlyingError {
            case is WhagoError, is ErrorResponse, is PacingError, is DecodingError, is ServerError:
                return from(error.underlyingError, logger: logger)
            default: break
            }
            if error.httpStatus.code < 500 {
                let code = switch error.httpStatus.code {
                case 404: "not_found"
                case 406: "not_acceptable"
                case 415: "unsupported_media_type"
                default: "invalid_request"
                }
                return ErrorResponse(error.httpStatus, code, "\(error.causeDescription)")
            }
            logger.error("request failed in \(error.operationID): \(error.causeDescription): \(type(of: error.underlyingError))")
            return ErrorResponse(.internalServerError, "internal", "whago failed to handle the request; see its log for the request id")
        default:
            logger.error("request failed: \(type(of: error)): \(error)")
            return ErrorResponse(.internalServerError, "internal", "whago failed to handle the request; see its log for the request id")
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
