import Foundation
import Testing
import WhagoCore

@Suite("Configuration value types", .timeLimit(.minutes(3)))
struct ValueTests {
    @Test("TimeSpan parses and prints canonically")
    func timeSpan() throws {
        #expect(TimeSpan("1h30m")?.description == "1h30m")
        #expect(TimeSpan("90s")?.description == "1m30s")
        #expect(TimeSpan("250ms")?.description == "250ms")
        #expect(TimeSpan("0s")?.milliseconds == 0)
        for bad in ["", "30", "5 minutes", "1.5s", "-3s", "s", "99999999999999999d"] {
            #expect(TimeSpan(bad) == nil, "\(bad)")
        }
    }

    @Test("ByteSize parses binary and decimal units")
    func byteSize() {
        #expect(ByteSize("1GiB")?.bytes == 1 << 30)
        #expect(ByteSize("1GB")?.bytes == 1_000_000_000)
        #expect(ByteSize("1536MiB")?.description == "1536MiB")
        #expect(ByteSize("2048MiB")?.description == "2GiB")
        for bad in ["", "MiB", "1.5GiB", "12 parsecs", "99999999999TiB"] {
            #expect(ByteSize(bad) == nil, "\(bad)")
        }
    }

    @Test("PortRange counts and contains its ports")
    func portRange() throws {
        let range = try #require(PortRange("3100-3199"))
        #expect(range.count == 100)
        #expect(range.contains(3100) && range.contains(3199) && !range.contains(3200))
        #expect(Array(range).first == 3100)
        #expect(PortRange("8080")?.count == 1)
        #expect(PortRange("3199-3100") == nil)
    }

    @Test("HostPort accepts IPv4, IPv6 in brackets, names and a bare port")
    func hostPort() {
        #expect(HostPort("127.0.0.1:8080") == HostPort(host: "127.0.0.1", port: 8080))
        #expect(HostPort("[::1]:9")?.description == "[::1]:9")
        #expect(HostPort("localhost:80")?.host == "localhost")
        #expect(HostPort(":8080")?.host == "0.0.0.0")
        for bad in ["8080", "::1:80", "host:", "host:99999", "a b:1"] {
            #expect(HostPort(bad) == nil, "\(bad)")
        }
    }

    @Test("a Secret never shows itself")
    func secret() {
        let secret = Secret("hunter2")
        struct Holder { let password: Secret }
        #expect("\(secret)" == "<redacted>")
        #expect(String(reflecting: secret) == "<redacted>")
        var dumped = ""
        dump(Holder(password: secret), to: &dumped)
        #expect(!dumped.contains("hunter2"))
        #expect(secret.revealed == "hunter2")
    }
}

@Suite("Domain types", .timeLimit(.minutes(3)))
struct DomainTests {
    @Test("chip statuses are spelled as WAHA spells them, plus whago's own")
    func chipStatuses() {
        #expect(ChipStatus.allCases.filter(\.isWAHAStatus).map(\.rawValue) == ["STOPPED", "STARTING", "SCAN_QR_CODE", "WORKING", "FAILED"])
        #expect(ChipStatus.allCases.filter { !$0.isWAHAStatus }.map(\.rawValue) == ["PROVISIONING", "EXPIRED", "DELETING"])
    }

    @Test("a sticky-port lease operation keeps no password: it is written to the file store's log as it is")
    func stickyPortLeaseWithoutPassword() throws {
        let proxy = ProxyEndpoint(scheme: .socks5h, host: "127.0.0.1", port: 1080, username: "u", password: Secret("static-pa55"))
        let range = try PortRange(1, 2)
        for endpoint: StickyPortLease.Endpoint in [.atPort(proxy), .listed([proxy, proxy])] {
            let request = StickyPortLease(chip: "c1", provider: "static", ports: range, endpoint: endpoint)
            let logged = String(decoding: try JSONEncoder().encode(StoreOperation.leaseStickyPort(request)), as: UTF8.self)
            #expect(!logged.contains("static-pa55"), "\(logged)")
            #expect(request.lease(on: 2).endpoint?.username == "u" && request.lease(on: 2).endpoint?.password == nil)
        }
    }

    @Test("typed identifiers round-trip through JSON as plain strings")
    func identifiers() throws {
        let chip = Chip(id: ChipID("chip_1"), tenant: TenantID("t1"), name: "sales")
        let json = try JSONEncoder().encode(chip)
        #expect(String(decoding: json, as: UTF8.self).contains("\"id\":\"chip_1\""))
        #expect(try JSONDecoder().decode(Chip.self, from: json) == chip)
        let random = ChipID.random(prefix: "chip")
        #expect(random.rawValue.hasPrefix("chip_") && random.rawValue.count == 25)
        #expect(random != ChipID.random(prefix: "chip"))
    }

    @Test("errors are values with a stable code and a sentence")
    func errors() {
        let error = WhagoError(.capacityExhausted, "no free port in 3100-3199")
        #expect(error.code.rawValue == "capacity_exhausted")
        #expect(error.description == "capacity_exhausted: no free port in 3100-3199")
        #expect(WhagoError.driverNotImplemented("docker").message == "driver 'docker' is not implemented yet")
    }

    @Test("a proxy endpoint describes itself without its password")
    func proxyEndpoint() {
        let endpoint = ProxyEndpoint(scheme: .socks5h, host: "gw.example", port: 10001, username: "user__cr.br", password: Secret("pw"))
        #expect(endpoint.description == "socks5h://user__cr.br@gw.example:10001")
    }
}

@Suite("API keys", .timeLimit(.minutes(3)))
struct APIKeyTests {
    @Test("a generated key is accepted by its record, which holds only a salted hash")
    func generated() {
        let (key, record) = APIKeyRecord.generate(for: "t1")
        #expect(key.hasPrefix(record.prefix + "."))
        #expect(APIKeyRecord.prefix(of: key) == record.prefix)
        #expect(record.accepts(key))
        let secret = String(key.dropFirst(record.prefix.count + 1))
        #expect(!record.hash.contains(secret))
        #expect(!record.accepts(key + "x"))
        #expect(!record.accepts(record.prefix + ".wrong"))
        let (other, _) = APIKeyRecord.generate(for: "t1")
        #expect(!record.accepts(other))
        var revoked = record
        revoked.revokedAt = Date(timeIntervalSinceNow: -1)
        #expect(!revoked.accepts(key))
    }
}

@Suite("Untrusted text and credentials", .timeLimit(.minutes(3)))
struct UntrustedTextTests {
    @Test("a worker's text is cut to 512 bytes and loses control characters and bidi overrides")
    func workerText() {
        #expect(WorkerText.clean("fine") == "fine")
        #expect(WorkerText.clean("line1\nFAKE log line\r\u{1B}[31mred\u{202E}") == "line1 FAKE log line  [31mred ")
        let long = WorkerText.clean(String(repeating: "é", count: 1_000))
        #expect(long.utf8.count <= 512 + "…".utf8.count)
        #expect(long.hasSuffix("…"))
    }

    @Test("secrets compare by value, and match a candidate only when equal")
    func secretComparison() {
        #expect(Secret("abc") == Secret("abc"))
        #expect(Secret("abc") != Secret("abd"))
        #expect(Secret("abc") != Secret("abcd"))
        #expect(Secret("token").matches("token"))
        #expect(!Secret("token").matches("tokeN"))
        #expect(!Secret("token").matches(""))
        #expect(Set([Secret("a"), Secret("a"), Secret("b")]).count == 2)
    }

    @Test("loopback hosts")
    func loopback() {
        for host in ["127.0.0.1", "127.8.9.10", "localhost", "LOCALHOST", "::1", "[::1]"] { #expect(isLoopbackHost(host), "\(host)") }
        for host in ["10.0.0.1", "192.168.1.1", "db.example.com", "127.0.0", "1127.0.0.1", "::2", "0.0.0.0"] { #expect(!isLoopbackHost(host), "\(host)") }
    }
}
