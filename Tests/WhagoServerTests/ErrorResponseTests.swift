import HTTPTypes
import Testing
import WhagoCore
@testable import WhagoServer

/// What an API client reads of a failure.
@Suite("Error answers tell what failed, not where the workers are")
struct ErrorResponseTests {
    @Test("a 5xx answer's text has no URL, address or port of a worker; a 4xx one is as written")
    func noAddresses() {
        let unreachable = ErrorResponse(WhagoError(.unavailable,
            "worker w-1 at http://10.0.3.7:21000 is unreachable: Failed to connect to 10.0.3.7 port 21000 after 0 ms: Couldn't connect to server"))
        #expect(unreachable.status.code == 503)
        #expect(unreachable.message == "worker w-1 at <url> is unreachable: Failed to connect to <address> port <port> after 0 ms: Couldn't connect to server",
                "\(unreachable.message)")
        let v6 = ErrorResponse(WhagoError(.timedOut, "no answer from [fd00::7]:3000 nor fe80::1 within 10s"))
        #expect(v6.message == "no answer from <address> nor <address> within 10s", "\(v6.message)")
        let plain = ErrorResponse(WhagoError(.unavailable, "whago is shutting down; retry at 20:05:56 on another replica"))
        #expect(plain.message == "whago is shutting down; retry at 20:05:56 on another replica", "a time is not an address")
        let invalid = ErrorResponse(WhagoError(.invalidRequest, "webhookUrl http://10.0.0.1/x is not allowed"))
        #expect(invalid.message == "webhookUrl http://10.0.0.1/x is not allowed", "the client's own input is shown back as it is")
    }
}
