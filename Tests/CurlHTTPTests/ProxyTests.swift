import CurlHTTP
import Testing
import WhagoTesting

@Suite("CurlHTTP through a real SOCKS5 server (microsocks)", .enabled(if: TestServices.socks5 != nil || TestServices.required), .timeLimit(.minutes(10)))
struct ProxyTests {
    let client = HTTPClient.shared

    private func socks() throws -> TestServices.SOCKS5 {
        try #require(TestServices.socks5, Comment(rawValue: TestServices.missing("microsocks")))
    }

    @Test("with the right credentials the request goes through")
    func rightPassword() async throws {
        let socks = try socks()
        for scheme in [HTTPProxy.Scheme.socks5h, .socks5] {
            let proxy = HTTPProxy(scheme, host: socks.host, port: socks.port, username: socks.username, password: socks.password)
            let response = try await client.execute(HTTPClientRequest(.get, try await TestHTTPServer.baseURL + "/hello", proxy: proxy))
            #expect(response.text == "hello")
        }
    }

    @Test("a wrong password fails clearly as proxyFailed, without the password in the error")
    func wrongPassword() async throws {
        let socks = try socks()
        let proxy = HTTPProxy(.socks5h, host: socks.host, port: socks.port, username: socks.username, password: "wr0ng-pa55word")
        let error = await #expect(throws: HTTPClientError.self) {
            try await client.execute(HTTPClientRequest(.get, try await TestHTTPServer.baseURL + "/hello", proxy: proxy))
        }
        #expect(error?.kind == .proxyFailed)
        #expect(error.map { !"\($0)".contains("wr0ng-pa55word") } == true)
    }

    @Test("a proxy that does not listen fails as proxyFailed")
    func proxyDown() async throws {
        let nobody = try RefusingPort()
        let proxy = HTTPProxy(.socks5h, host: "127.0.0.1", port: nobody.port, username: "u", password: "p")
        let error = await #expect(throws: HTTPClientError.self) {
            try await client.execute(HTTPClientRequest(.get, try await TestHTTPServer.baseURL + "/hello", proxy: proxy))
        }
        #expect(error?.kind == .proxyFailed)
    }

    @Test("a password with @ : / % works unescaped")
    func specialPassword() async throws {
        let socks = try #require(TestServices.socks5WithSpecialPassword, Comment(rawValue: TestServices.missing("microsocks (special password)")))
        #expect(socks.password.contains("@") && socks.password.contains(":") && socks.password.contains("/") && socks.password.contains("%"))
        let proxy = HTTPProxy(.socks5h, host: socks.host, port: socks.port, username: socks.username, password: socks.password)
        let response = try await client.execute(HTTPClientRequest(.post, try await TestHTTPServer.baseURL + "/echo", body: [42], proxy: proxy))
        #expect(response.body == [42])
    }
}
