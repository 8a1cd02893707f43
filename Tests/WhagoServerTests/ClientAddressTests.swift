import Hummingbird
import Testing
import WhagoCore
@testable import WhagoServer

/// Which client a request counts as, for limits per client address.
@Suite("The client behind a request")
struct ClientAddressTests {
    private typealias Edge = EdgeMiddleware<WhagoRequestContext>
    private let proxies = [NetworkRange("10.0.0.0/8")!, NetworkRange("127.0.0.1/32")!]

    @Test("the peer, unless it is a trusted proxy; then the nearest untrusted X-Forwarded-For hop; a forged header from an untrusted peer changes nothing")
    func forwarded() {
        #expect(Edge.client(peer: "203.0.113.7", forwardedFor: ["198.51.100.1"], trusted: []) == "203.0.113.7", "no proxies trusted: the peer")
        #expect(Edge.client(peer: "203.0.113.7", forwardedFor: ["198.51.100.1"], trusted: proxies) == "203.0.113.7", "an untrusted peer's header is ignored")
        #expect(Edge.client(peer: "10.0.0.5", forwardedFor: ["198.51.100.1"], trusted: proxies) == "198.51.100.1")
        #expect(Edge.client(peer: "10.0.0.5", forwardedFor: ["1.2.3.4, 198.51.100.1, 10.0.0.9"], trusted: proxies) == "198.51.100.1",
                "the client's own claims left of the first untrusted hop are not believed")
        #expect(Edge.client(peer: "10.0.0.5", forwardedFor: ["1.2.3.4", "198.51.100.1"], trusted: proxies) == "198.51.100.1", "several headers read as one list")
        #expect(Edge.client(peer: "10.0.0.5", forwardedFor: ["not-an-address"], trusted: proxies) == "10.0.0.5", "garbage: the proxy itself")
        #expect(Edge.client(peer: "10.0.0.5", forwardedFor: [], trusted: proxies) == "10.0.0.5")
    }
}
