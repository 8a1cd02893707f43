import Foundation
import Testing
import WhagoCore

@Suite("Network addresses and what may be reached")
struct NetworkAddressTests {
    @Test("only globally routed unicast addresses are public, whatever the notation", arguments: [
        ("8.8.8.8", true), ("1.1.1.1", true), ("2606:4700:4700::1111", true), ("100.63.255.255", true), ("172.32.0.1", true),
        ("127.0.0.1", false), ("127.8.8.8", false), ("10.1.2.3", false), ("172.16.0.1", false), ("172.31.255.255", false),
        ("192.168.1.1", false), ("169.254.169.254", false), ("100.64.0.1", false), ("100.127.255.255", false), ("0.0.0.0", false),
        ("224.0.0.1", false), ("255.255.255.255", false), ("240.0.0.1", false), ("192.0.2.1", false), ("198.18.0.1", false),
        ("::", false), ("::1", false), ("fe80::1", false), ("fd00::1", false), ("fc00::1", false), ("ff02::1", false),
        ("::ffff:127.0.0.1", false), ("::ffff:169.254.169.254", false), ("::ffff:10.0.0.1", false), ("::127.0.0.1", false),
        ("64:ff9b::a9fe:a9fe", false), ("2002:7f00:1::", false), ("2001:db8::1", false), ("[::ffff:8.8.8.8]", true),
    ])
    func scopes(_ text: String, _ isPublic: Bool) throws {
        let address = try #require(NetworkAddress(text))
        #expect((address.scope == .public) == isPublic, "\(text): \(address.scope)")
        #expect(AddressPolicy().permits(address) == isPublic)
        #expect(AddressPolicy(allowPrivateNetworks: true).permits(address))
    }

    @Test("an allow list admits its networks only, v4-mapped forms included")
    func allowList() throws {
        let policy = AddressPolicy(allowed: [try #require(NetworkRange("10.20.0.0/16")), try #require(NetworkRange("fd00::/8"))])
        #expect(policy.permits(try #require(NetworkAddress("10.20.30.40"))))
        #expect(policy.permits(try #require(NetworkAddress("::ffff:10.20.0.1"))))
        #expect(!policy.permits(try #require(NetworkAddress("10.21.0.1"))))
        #expect(policy.permits(try #require(NetworkAddress("fd12::1"))))
        #expect(!policy.permits(try #require(NetworkAddress("127.0.0.1"))))
        #expect(NetworkRange("10.0.0.0/33") == nil && NetworkRange("nonsense") == nil && NetworkRange("::/129") == nil)
        #expect(NetworkRange("10.1.2.3")?.prefixLength == 32)
    }

    // No name that needs a DNS server: the tests send nothing off the machine (localhost is in /etc/hosts).
    @Test("names resolve off the cooperative threads; an address is itself")
    func resolving() async {
        #expect(await HostResolver.addresses(of: "127.0.0.1") == [NetworkAddress("127.0.0.1")!])
        let local = await HostResolver.addresses(of: "localhost")
        #expect(!local.isEmpty && local.allSatisfy { $0.scope == .loopback }, "\(local)")
    }
}
