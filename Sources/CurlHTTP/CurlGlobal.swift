internal import CCurl
#if canImport(Glibc)
import Glibc
#endif

/// libcurl's process-wide setup, done once before the first handle exists.
enum CurlGlobal {
    /// `curl_global_init`, and SIGPIPE ignored: with `CURLOPT_NOSIGNAL` libcurl leaves SIGPIPE to the
    /// application, and a peer closing a socket must not kill the daemon.
    static let initialized: Bool = {
        signal(SIGPIPE, SIG_IGN)
        return curl_global_init(Int(CURL_GLOBAL_ALL)) == CURLE_OK
    }()
}
