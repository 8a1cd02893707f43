internal import CCurl

/// A failed transfer: what kind of failure, libcurl's code and its message (never a credential).
public struct HTTPClientError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What failed, as a caller decides on it (retry, give up, report).
    public enum Kind: Sendable, Hashable {
        /// Nothing listens at the address (or the unix socket does not exist).
        case connectionRefused
        /// The transfer or the connection took longer than allowed.
        case timedOut
        /// The proxy could not be reached, refused the credentials or could not reach the target.
        case proxyFailed
        /// The host name did not resolve.
        case dnsFailed
        /// TLS failed (handshake, certificate).
        case tls
        /// The Swift task was cancelled, or the client shut down.
        case cancelled
        /// The response body was larger than the limit.
        case bodyTooLarge
        /// The request was refused before anything was sent: a scheme other than `http`/`https`,
        /// or a header name or value that would split the request (CR, LF, NUL).
        case invalidRequest
        /// Every address of the host was one the request may not connect to
        /// (``HTTPClientRequest/allowsAddress``).
        case addressNotAllowed
        /// Any other libcurl error; ``HTTPClientError/curlCode`` says which.
        case other
    }

    public var kind: Kind
    /// libcurl's `CURLcode`, 0 when the error did not come from libcurl.
    public var curlCode: Int
    public var message: String

    public init(_ kind: Kind, curlCode: Int = 0, message: String) {
        self.kind = kind
        self.curlCode = curlCode
        self.message = message
    }

    public var description: String {
        "\(kind)" + (curlCode == 0 ? "" : " (curl \(curlCode))") + ": \(message)"
    }

    /// The error for a libcurl result, with credentials removed from libcurl's message.
    static func from(_ code: CURLcode, detail: String, usingProxy: Bool, hiding secrets: [String]) -> HTTPClientError {
        var message = detail.isEmpty ? String(cString: curl_easy_strerror(code)) : detail
        for secret in secrets where !secret.isEmpty {
            message = message.replacingAll(secret, with: "<redacted>")
        }
        let kind: Kind
        switch code {
        case CURLE_COULDNT_CONNECT: kind = usingProxy ? .proxyFailed : .connectionRefused
        case CURLE_OPERATION_TIMEDOUT: kind = .timedOut
        case CURLE_COULDNT_RESOLVE_HOST: kind = .dnsFailed
        case CURLE_COULDNT_RESOLVE_PROXY, CURLE_PROXY: kind = .proxyFailed
        case CURLE_SSL_CONNECT_ERROR, CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CERTPROBLEM, CURLE_SSL_CIPHER,
             CURLE_SSL_ENGINE_NOTFOUND, CURLE_SSL_ENGINE_SETFAILED, CURLE_SSL_CACERT_BADFILE, CURLE_SSL_ISSUER_ERROR,
             CURLE_SSL_PINNEDPUBKEYNOTMATCH, CURLE_SSL_INVALIDCERTSTATUS, CURLE_SSL_CRL_BADFILE, CURLE_SSL_SHUTDOWN_FAILED:
            kind = .tls
        case CURLE_ABORTED_BY_CALLBACK: kind = .cancelled
        default: kind = .other
        }
        return HTTPClientError(kind, curlCode: Int(code.rawValue), message: message)
    }
}

extension String {
    fileprivate func replacingAll(_ target: String, with replacement: String) -> String {
        var result = ""
        var rest = self[...]
        while let range = rest.firstRange(of: target) {
            result += rest[..<range.lowerBound] + replacement
            rest = rest[range.upperBound...]
        }
        return result + rest
    }
}
