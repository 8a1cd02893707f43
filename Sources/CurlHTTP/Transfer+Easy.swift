internal import CCurl
import Glibc

/// The C callbacks libcurl calls on the loop thread; `userdata` is the unretained ``Transfer``.
private let writeCallback: whago_curl_data_callback = { buffer, size, count, userdata in
    let transfer = Unmanaged<Transfer>.fromOpaque(userdata!).takeUnretainedValue()
    let length = size * count
    let bytes = UnsafeBufferPointer(start: UnsafeRawPointer(buffer)?.assumingMemoryBound(to: UInt8.self), count: length)
    return transfer.receiveBody(bytes) ? length : 0
}

private let headerCallback: whago_curl_data_callback = { buffer, size, count, userdata in
    let transfer = Unmanaged<Transfer>.fromOpaque(userdata!).takeUnretainedValue()
    let length = size * count
    transfer.receiveHeader(UnsafeBufferPointer(start: UnsafeRawPointer(buffer)?.assumingMemoryBound(to: UInt8.self), count: length))
    return length
}

/// Opens the socket libcurl asks for, unless the request refuses its address.
private let openSocketCallback: whago_curl_opensocket_callback = { clientp, _, address in
    guard let clientp, let address else { return CURL_SOCKET_BAD }
    let transfer = Unmanaged<Transfer>.fromOpaque(clientp).takeUnretainedValue()
    if let allows = transfer.request.allowsAddress {
        let family = address.pointee.family
        // `addr` is the start of a sockaddr as long as `addrlen` (an IPv6 one is longer than the
        // member's declared type): read it in place, never through a copy of the member.
        let start = UnsafeRawPointer(address) + MemoryLayout<curl_sockaddr>.offset(of: \curl_sockaddr.addr)!
        let length = Int(address.pointee.addrlen)
        var bytes: [UInt8]?
        if family == AF_INET, length >= MemoryLayout<sockaddr_in>.size {
            var raw = start.loadUnaligned(as: sockaddr_in.self).sin_addr
            bytes = withUnsafeBytes(of: &raw) { Array($0) }
        } else if family == AF_INET6, length >= MemoryLayout<sockaddr_in6>.size {
            var raw = start.loadUnaligned(as: sockaddr_in6.self).sin6_addr
            bytes = withUnsafeBytes(of: &raw) { Array($0) }
        }
        guard let bytes, allows(bytes) else {
            transfer.refusedAddress = true
            return CURL_SOCKET_BAD
        }
    }
    return socket(address.pointee.family, address.pointee.socktype, address.pointee.protocol)
}

extension Transfer {
    /// Sets every option of the request on `easy` (a fresh or reset handle). Returns an error for an
    /// option libcurl refuses (a malformed URL is only detected when the transfer starts).
    func configure(_ easy: UnsafeMutableRawPointer, defaults: HTTPClient.Configuration) -> HTTPClientError? {
        self.easy = easy
        let me = Unmanaged.passUnretained(self).toOpaque()
        var failed: (CURLoption, CURLcode)?
        func set(_ option: CURLoption, _ code: CURLcode) {
            if code != CURLE_OK, failed == nil { failed = (option, code) }
        }
        set(CURLOPT_NOSIGNAL, whago_curl_easy_setopt_long(easy, CURLOPT_NOSIGNAL, 1))
        set(CURLOPT_URL, whago_curl_easy_setopt_string(easy, CURLOPT_URL, request.url))
        // Checked before a transfer is made (validationError); libcurl enforces it too, redirects included.
        set(CURLOPT_PROTOCOLS_STR, whago_curl_easy_setopt_string(easy, CURLOPT_PROTOCOLS_STR, "http,https"))
        set(CURLOPT_REDIR_PROTOCOLS_STR, whago_curl_easy_setopt_string(easy, CURLOPT_REDIR_PROTOCOLS_STR, "http,https"))
        set(CURLOPT_PRIVATE, whago_curl_easy_setopt_pointer(easy, CURLOPT_PRIVATE, me))
        set(CURLOPT_ERRORBUFFER, whago_curl_easy_setopt_pointer(easy, CURLOPT_ERRORBUFFER, errorBuffer))
        set(CURLOPT_WRITEFUNCTION, whago_curl_easy_setopt_data_callback(easy, CURLOPT_WRITEFUNCTION, writeCallback))
        set(CURLOPT_WRITEDATA, whago_curl_easy_setopt_pointer(easy, CURLOPT_WRITEDATA, me))
        set(CURLOPT_HEADERFUNCTION, whago_curl_easy_setopt_data_callback(easy, CURLOPT_HEADERFUNCTION, headerCallback))
        set(CURLOPT_HEADERDATA, whago_curl_easy_setopt_pointer(easy, CURLOPT_HEADERDATA, me))

        switch request.method {
        case .get where request.body == nil:
            set(CURLOPT_HTTPGET, whago_curl_easy_setopt_long(easy, CURLOPT_HTTPGET, 1))
        case .head:
            set(CURLOPT_NOBODY, whago_curl_easy_setopt_long(easy, CURLOPT_NOBODY, 1))
        case .post:
            break
        default:
            set(CURLOPT_CUSTOMREQUEST, whago_curl_easy_setopt_string(easy, CURLOPT_CUSTOMREQUEST, request.method.rawValue))
        }
        if let body = request.body {
            set(CURLOPT_POSTFIELDSIZE_LARGE, whago_curl_easy_setopt_off(easy, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.count)))
            body.withUnsafeBytes { bytes in
                // COPYPOSTFIELDS copies the bytes, so the array may go away after this call.
                set(CURLOPT_COPYPOSTFIELDS, whago_curl_easy_setopt_pointer(easy, CURLOPT_COPYPOSTFIELDS, UnsafeMutableRawPointer(mutating: bytes.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!)))
            }
        } else if request.method == .post {
            set(CURLOPT_POSTFIELDSIZE_LARGE, whago_curl_easy_setopt_off(easy, CURLOPT_POSTFIELDSIZE_LARGE, 0))
            set(CURLOPT_COPYPOSTFIELDS, whago_curl_easy_setopt_string(easy, CURLOPT_COPYPOSTFIELDS, ""))
        }

        // "Expect:" stops libcurl's 100-continue round trip on large bodies; an empty Content-Type
        // stops the form-encoded default when the caller gave none.
        var list: UnsafeMutablePointer<curl_slist>? = curl_slist_append(nil, "Expect:")
        if request.body != nil, !request.headers.contains(where: { $0.name.lowercased() == "content-type" }) {
            list = curl_slist_append(list, "Content-Type:")
        }
        for (name, value) in request.headers {
            list = curl_slist_append(list, value.isEmpty ? "\(name);" : "\(name): \(value)")
        }
        headerList = list
        set(CURLOPT_HTTPHEADER, whago_curl_easy_setopt_slist(easy, CURLOPT_HTTPHEADER, list))

        let timeout = request.timeout ?? defaults.timeout
        let connectTimeout = request.connectTimeout ?? defaults.connectTimeout
        set(CURLOPT_TIMEOUT_MS, whago_curl_easy_setopt_long(easy, CURLOPT_TIMEOUT_MS, timeout.curlMilliseconds))
        set(CURLOPT_CONNECTTIMEOUT_MS, whago_curl_easy_setopt_long(easy, CURLOPT_CONNECTTIMEOUT_MS, connectTimeout.curlMilliseconds))

        if let tls = request.tls {
            if let file = tls.certificateAuthority { set(CURLOPT_CAINFO, whago_curl_easy_setopt_string(easy, CURLOPT_CAINFO, file)) }
            if let file = tls.certificate { set(CURLOPT_SSLCERT, whago_curl_easy_setopt_string(easy, CURLOPT_SSLCERT, file)) }
            if let file = tls.key { set(CURLOPT_SSLKEY, whago_curl_easy_setopt_string(easy, CURLOPT_SSLKEY, file)) }
        }

        if request.allowsAddress != nil {
            set(CURLOPT_OPENSOCKETFUNCTION, whago_curl_easy_setopt_opensocket_callback(easy, CURLOPT_OPENSOCKETFUNCTION, openSocketCallback))
            set(CURLOPT_OPENSOCKETDATA, whago_curl_easy_setopt_pointer(easy, CURLOPT_OPENSOCKETDATA, me))
        }
        if let path = request.unixSocketPath {
            set(CURLOPT_UNIX_SOCKET_PATH, whago_curl_easy_setopt_string(easy, CURLOPT_UNIX_SOCKET_PATH, path))
        }
        if let proxy = request.proxy {
            set(CURLOPT_PROXY, whago_curl_easy_setopt_string(easy, CURLOPT_PROXY, proxy.url))
            // libcurl URL-decodes these two (parse_proxy_auth in lib/url.c), so a literal `%` would be
            // read as an escape: writing it as %25 makes the round trip exact. Nothing else needs escaping.
            if let username = proxy.username {
                set(CURLOPT_PROXYUSERNAME, whago_curl_easy_setopt_string(easy, CURLOPT_PROXYUSERNAME, username.escapingPercent))
            }
            if let password = proxy.password {
                set(CURLOPT_PROXYPASSWORD, whago_curl_easy_setopt_string(easy, CURLOPT_PROXYPASSWORD, password.escapingPercent))
            }
        } else {
            // An explicit empty proxy: the environment's http_proxy/all_proxy never reroute whago.
            set(CURLOPT_PROXY, whago_curl_easy_setopt_string(easy, CURLOPT_PROXY, ""))
        }

        guard let (option, code) = failed else { return nil }
        return HTTPClientError(.other, curlCode: Int(code.rawValue),
                               message: "libcurl refused option \(option.rawValue): \(String(cString: curl_easy_strerror(code)))")
    }

    /// libcurl's detailed message for the last failure, if it wrote one.
    var errorDetail: String {
        var text = String(cString: errorBuffer)
        while text.last == "\n" { text.removeLast() }
        return text
    }
}

extension String {
    /// Every `%` written as `%25`.
    fileprivate var escapingPercent: String {
        contains("%") ? split(separator: "%", omittingEmptySubsequences: false).joined(separator: "%25") : self
    }
}

extension Duration {
    /// Whole milliseconds for a libcurl `long` option, at least 1 (0 would mean "no limit").
    var curlMilliseconds: Int {
        let (seconds, attoseconds) = components
        return max(1, Int(seconds) * 1000 + Int(attoseconds / 1_000_000_000_000_000))
    }
}
