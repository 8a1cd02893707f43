import CCurl
import Testing

@Suite("The CCurl shim", .timeLimit(.minutes(3)))
struct CCurlShimTests {
    @Test("typed setopt and getinfo wrappers reach the system libcurl")
    func typedWrappers() throws {
        let version = String(cString: curl_version())
        #expect(version.hasPrefix("libcurl/"))
        let handle = try #require(curl_easy_init())
        defer { curl_easy_cleanup(handle) }
        #expect(whago_curl_easy_setopt_long(handle, CURLOPT_NOSIGNAL, 1) == CURLE_OK)
        #expect(whago_curl_easy_setopt_string(handle, CURLOPT_URL, "http://127.0.0.1:9/") == CURLE_OK)
        #expect(whago_curl_easy_setopt_long(handle, CURLOPT_TIMEOUT_MS, 100_000) == CURLE_OK)
        var code: Int = -1
        #expect(whago_curl_easy_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &code) == CURLE_OK)
        #expect(code == 0)
        var effective: UnsafeMutablePointer<CChar>?
        #expect(whago_curl_easy_getinfo_string(handle, CURLINFO_EFFECTIVE_URL, &effective) == CURLE_OK)
        #expect(effective.map { String(cString: $0) } == "http://127.0.0.1:9/")
    }
}
