import DataImpulseProxy
import FileStore
import Foundation
import NoProxy
import StaticProxy
import Testing
import WAHAPlusProvider
import WhagoCore
import WhagoTesting

/// A real file store in a temporary directory, with a tenant and the given chips.
private func store(chips: [ChipID]) async throws -> (FileStore, TemporaryDirectory) {
    let directory = try TemporaryDirectory("proxy-store")
    let store = try await FileStore(directory: directory.path)
    try await store.createTenant(Tenant(id: "t1", name: "t1"))
    for chip in chips { try await store.createChip(Chip(id: chip, tenant: "t1", name: chip.rawValue, status: .provisioning)) }
    return (store, directory)
}

/// Opens the store again, as a restarted whago would. (The store's lock belongs to this process
/// alone, so children other tests spawn meanwhile cannot hold it.)
private func reopen(_ directory: TemporaryDirectory) async throws -> FileStore {
    try await FileStore(directory: directory.path)
}

private let socksRequired = SOCKSServer.binary != nil || TestServices.required

@Suite("The dataimpulse driver", .timeLimit(.minutes(10)))
struct DataImpulseTests {
    @Test("16 leases at once never share a sticky port; a tenant with a sub-user of its own gets that login and password only")
    func concurrentLeasesAndTenantLogins() async throws {
        let chips = (0..<16).map { ChipID("c\($0)") }
        let (store, directory) = try await store(chips: chips)
        defer { directory.remove() }
        let provider = DataImpulseProxy(gateway: "127.0.0.1", login: "di-user", password: Secret("main-pw"), stickyPorts: try PortRange(10000, 10015),
                                        tenantLogins: ["t1": (login: "di-t1", password: Secret("t1-pw"))])
        let leases = try await withThrowingTaskGroup(of: ProxyLease.self) { group in
            for chip in chips { group.addTask { try await provider.lease(for: chip, hints: ProxyHints(tenant: "t1"), store: store) } }
            return try await group.reduce(into: [ProxyLease]()) { $0.append($1) }
        }
        #expect(Set(leases.compactMap(\.stickyPort)) == Set(10000...10015), "each port once")
        #expect(Set(leases.map(\.chip)) == Set(chips))
        #expect(leases.allSatisfy { $0.endpoint?.username == "di-t1__cr.br" && $0.endpoint?.password == nil }, "leases keep no password")
        #expect(leases.allSatisfy { provider.endpoint(for: $0)?.password == Secret("t1-pw") }, "the tenant's password, from the configuration")
        #expect(try await store.proxyLeases().allSatisfy { $0.endpoint?.password == nil })
        #expect(try await store.proxyLeases().count == 16)
        for lease in leases { try await provider.release(lease, store: store) }
        let other = try await provider.lease(for: "c0", hints: ProxyHints(tenant: "t2"), store: store)
        #expect(other.endpoint?.username == "di-user__cr.br" && provider.endpoint(for: other)?.password == Secret("main-pw"))
        await store.shutdown()
    }

    @Test("one sticky port per chip, kept across restarts, given back on release; an exhausted range is capacity_exhausted")
    func stickyPorts() async throws {
        let chips: [ChipID] = ["c1", "c2", "c3", "c4"]
        let (store, directory) = try await store(chips: chips)
        defer { directory.remove() }
        let provider = DataImpulseProxy(gateway: "127.0.0.1", login: "di-user", password: Secret("pw"), stickyPorts: try PortRange(10000, 10002))
        var ports: [ChipID: Int] = [:]
        for chip in chips.prefix(3) {
            let lease = try await provider.lease(for: chip, hints: ProxyHints(), store: store)
            ports[chip] = lease.stickyPort
            #expect(lease.endpoint?.port == lease.stickyPort)
            #expect(lease.endpoint?.username == "di-user__cr.br")
            #expect(lease.endpoint?.scheme == .http, "no protocol set, no preference given: HTTP")
        }
        #expect(Set(ports.values) == [10000, 10001, 10002])
        await #expect { try await provider.lease(for: "c4", hints: ProxyHints(), store: store) } throws: {
            ($0 as? WhagoError)?.code == .capacityExhausted && ($0 as? WhagoError)?.message.contains("10000-10002") == true
        }
        // A restart of whago: a new store and provider over the same files give the same ports.
        await store.shutdown()
        let reopened = try await reopen(directory)
        let again = DataImpulseProxy(gateway: "127.0.0.1", login: "di-user", password: Secret("pw"), stickyPorts: try PortRange(10000, 10002))
        for chip in chips.prefix(3) {
            #expect(try await again.lease(for: chip, hints: ProxyHints(), store: reopened).stickyPort == ports[chip])
        }
        let released = try #require(try await reopened.proxyLease(of: "c2"))
        try await again.release(released, store: reopened)
        try await again.release(released, store: reopened)
        #expect(try await again.lease(for: "c4", hints: ProxyHints(), store: reopened).stickyPort == ports["c2"])
        await reopened.shutdown()
    }

    @Test("the login carries the chip's country, the city and the session TTL")
    func loginParameters() async throws {
        let (store, directory) = try await store(chips: ["c1", "c2"])
        defer { directory.remove() }
        let provider = DataImpulseProxy(gateway: "127.0.0.1", login: "di-user", password: Secret("pw"), protocol: "http", country: "br",
                                        city: "saopaulo", sessionTTL: .seconds(3600), stickyPorts: try PortRange(10000, 10010))
        let lease = try await provider.lease(for: "c1", hints: ProxyHints(country: "PT"), store: store)
        #expect(lease.endpoint?.username == "di-user__cr.pt;city.saopaulo;sessttl.60")
        #expect(lease.endpoint?.scheme == .http)
        #expect(try await provider.lease(for: "c2", hints: ProxyHints(), store: store).endpoint?.username == "di-user__cr.br;city.saopaulo;sessttl.60")
        #expect(try await provider.check(lease) == .unchecked, "no probeURL: nothing is sent")
        await store.shutdown()
    }

    @Test("the protocol: the configured one, else the first the session software takes that the gateway speaks (HTTP when it says nothing)")
    func protocolChoice() async throws {
        let (store, directory) = try await store(chips: ["c1", "c2", "c3", "c4"])
        defer { directory.remove() }
        let preferring = DataImpulseProxy(gateway: "127.0.0.1", login: "di-user", password: Secret("pw"), stickyPorts: try PortRange(10000, 10010))
        #expect(try await preferring.lease(for: "c1", hints: ProxyHints(schemes: [.http, .https]), store: store).endpoint?.scheme == .http)
        // SOCKS5 through DataImpulse lets the exit resolve names.
        #expect(try await preferring.lease(for: "c2", hints: ProxyHints(schemes: [.https, .socks5]), store: store).endpoint?.scheme == .socks5h)
        let socks = DataImpulseProxy(gateway: "127.0.0.1", login: "di-user", password: Secret("pw"), protocol: "socks5",
                                     stickyPorts: try PortRange(10000, 10010))
        #expect(try await socks.lease(for: "c3", hints: ProxyHints(), store: store).endpoint?.scheme == .socks5h)
        let http = DataImpulseProxy(gateway: "127.0.0.1", login: "di-user", password: Secret("pw"), protocol: "http",
                                    stickyPorts: try PortRange(10000, 10010))
        #expect(try await http.lease(for: "c4", hints: ProxyHints(schemes: [.socks5]), store: store).endpoint?.scheme == .http,
                "a configured protocol wins: the configuration check is where a mismatch is refused")
        await store.shutdown()
    }

    @Test("check really goes through the SOCKS5 proxy to the probe: latency and exit IP; a wrong password is refused",
          .enabled(if: socksRequired))
    func checkThroughSOCKS5() async throws {
        let peer = LoopbackPeer()
        try await peer.start()
        defer { Task { await peer.stop() } }
        let socks = try await SOCKSServer.start(username: "di-user__cr.br", password: "di-pass")
        defer { Task { try await socks.stop() } }
        let (store, directory) = try await store(chips: ["c1", "c2"])
        defer { directory.remove() }
        let range = try PortRange(socks.port, socks.port)
        let provider = DataImpulseProxy(gateway: "127.0.0.1", login: "di-user", password: Secret("di-pass"), protocol: "socks5", stickyPorts: range,
                                        probeURL: await peer.probeURL)
        let lease = try await provider.lease(for: "c1", hints: ProxyHints(), store: store)
        #expect(await peer.probeHits == 1, "the lease was checked through the proxy")
        let check = try await provider.check(lease)
        #expect(check.checked)
        #expect(check.exitIP == "203.0.113.7")
        #expect(check.latency > .zero)
        #expect(await peer.probeHits == 2)

        let wrong = DataImpulseProxy(gateway: "127.0.0.1", login: "di-user", password: Secret("not-it"), protocol: "socks5", stickyPorts: range,
                                     probeURL: await peer.probeURL, checkOnLease: false)
        try await provider.release(lease, store: store)
        let bad = try await wrong.lease(for: "c2", hints: ProxyHints(), store: store)
        await #expect {
            try await wrong.check(bad)
        } throws: { error in
            let error = error as? WhagoError
            return error?.code == .unauthorized && error?.message.contains("not-it") == false
        }
        #expect(await peer.probeHits == 2)
        await store.shutdown()
    }
}

@Suite("The static and none drivers", .timeLimit(.minutes(10)))
struct StaticProxyTests {
    @Test("exclusive: each chip its own URL, then capacity_exhausted; shared: least used first")
    func leasing() async throws {
        let (store, directory) = try await store(chips: ["c1", "c2", "c3"])
        defer { directory.remove() }
        let urls = [Secret("socks5h://u:p@127.0.0.1:1080"), Secret("http://u:p@127.0.0.1:8080")]
        let exclusive = try StaticProxy(proxies: urls)
        let first = try await exclusive.lease(for: "c1", hints: ProxyHints(), store: store)
        let second = try await exclusive.lease(for: "c2", hints: ProxyHints(), store: store)
        #expect(try await exclusive.lease(for: "c1", hints: ProxyHints(), store: store) == first)
        #expect(Set([first.endpoint?.port, second.endpoint?.port]) == [1080, 8080])
        await #expect { try await exclusive.lease(for: "c3", hints: ProxyHints(), store: store) } throws: {
            ($0 as? WhagoError)?.code == .capacityExhausted
        }
        for chip: ChipID in ["c1", "c2"] { try await store.releaseProxyLease(of: chip) }

        let shared = try StaticProxy(proxies: urls, exclusive: false)
        var ports: [Int] = []
        for chip: ChipID in ["c1", "c2", "c3"] {
            ports.append(try #require(try await shared.lease(for: chip, hints: ProxyHints(), store: store).endpoint?.port))
        }
        #expect(ports.filter { $0 == 1080 }.count + ports.filter { $0 == 8080 }.count == 3)
        #expect(abs(ports.filter { $0 == 1080 }.count - ports.filter { $0 == 8080 }.count) == 1)
        await store.shutdown()
    }

    @Test("proxy URLs: percent-encoded credentials are decoded; a malformed URL is a clear error")
    func urls() async throws {
        let (store, directory) = try await store(chips: ["c1", "c2"])
        defer { directory.remove() }
        let provider = try StaticProxy(proxies: [Secret("socks5h://whago%40user:p%40ss%3Aw%2Frd%2541@127.0.0.1:1080"),
                                                 Secret("http://plain:pass@proxy.example:3128")])
        var decoded: [String: (username: String?, password: String?)] = [:]
        for chip: ChipID in ["c1", "c2"] {
            let lease = try await provider.lease(for: chip, hints: ProxyHints(), store: store)
            let endpoint = try #require(provider.endpoint(for: lease))
            #expect(lease.endpoint?.password == nil, "the lease keeps no password")
            #expect(lease.endpoint?.username == endpoint.username)
            decoded[endpoint.host] = (endpoint.username, endpoint.password?.revealed)
        }
        #expect(decoded["127.0.0.1"]?.username == "whago@user")
        #expect(decoded["127.0.0.1"]?.password == "p@ss:w/rd%41", "decoded once: %25 is a percent sign, not an escape")
        #expect(decoded["proxy.example"]?.username == "plain" && decoded["proxy.example"]?.password == "pass")
        await store.shutdown()
        #expect(throws: WhagoError.self) { try StaticProxy(proxies: [Secret("gw.example:1080")]) }
        #expect(throws: WhagoError.self) { try StaticProxy(proxies: [Secret("ftp://gw.example:21")]) }
        #expect(throws: WhagoError.self) { try StaticProxy(proxies: [Secret("socks5://u:p@gw.example")]) }
    }

    @Test("check goes through the proxy with special characters in the password", .enabled(if: socksRequired))
    func checkWithSpecialPassword() async throws {
        let peer = LoopbackPeer()
        try await peer.start()
        defer { Task { await peer.stop() } }
        let socks = try await SOCKSServer.start(username: "whago@user", password: "p@ss:w/rd%41")
        defer { Task { try await socks.stop() } }
        let (store, directory) = try await store(chips: ["c1"])
        defer { directory.remove() }
        let provider = try StaticProxy(proxies: [Secret("socks5://whago%40user:p%40ss%3Aw%2Frd%2541@127.0.0.1:\(socks.port)")],
                                       probeURL: await peer.probeURL)
        let lease = try await provider.lease(for: "c1", hints: ProxyHints(), store: store)
        #expect(lease.endpoint?.username == "whago@user")
        #expect(lease.endpoint?.password == nil)
        #expect(provider.endpoint(for: lease)?.password?.revealed == "p@ss:w/rd%41")
        #expect(try await provider.check(lease).exitIP == "203.0.113.7")
        await store.shutdown()
    }

    @Test("only proxies of a protocol the session software takes are leased; none usable is invalid_config naming the protocols")
    func usableSchemes() async throws {
        let (store, directory) = try await store(chips: ["c1", "c2", "c3"])
        defer { directory.remove() }
        let urls = [Secret("socks5://u:p@127.0.0.1:1080"), Secret("http://u:p@127.0.0.1:8080"), Secret("socks5://u:p@127.0.0.1:1081"),
                    Secret("http://u:p@127.0.0.1:8081")]
        let exclusive = try StaticProxy(proxies: urls)
        let http = ProxyHints(schemes: [.http, .https])
        let ports = [try await exclusive.lease(for: "c1", hints: http, store: store), try await exclusive.lease(for: "c2", hints: http, store: store)]
            .compactMap(\.endpoint?.port)
        #expect(Set(ports) == [8080, 8081], "the HTTP ones, each once, though SOCKS5 ones are free")
        await #expect { try await exclusive.lease(for: "c3", hints: http, store: store) } throws: {
            ($0 as? WhagoError)?.code == .capacityExhausted && ($0 as? WhagoError)?.message.contains("all 2 usable proxies") == true
        }
        #expect(try await exclusive.lease(for: "c3", hints: ProxyHints(schemes: [.socks5]), store: store).endpoint?.port == 1080)
        try await store.releaseProxyLease(of: "c3")

        let socksOnly = try StaticProxy(proxies: [urls[0], urls[2]], exclusive: false)
        await #expect { try await socksOnly.lease(for: "c3", hints: http, store: store) } throws: {
            let error = $0 as? WhagoError
            return error?.code == .invalidConfig && error?.message.contains("http or https") == true && error?.message.contains("u:p") == false
        }
        #expect(try await store.proxyLease(of: "c3") == nil, "nothing leased")
        await store.shutdown()
    }

    @Test("none: a lease with no endpoint, nothing to check")
    func none() async throws {
        let (store, directory) = try await store(chips: ["c1"])
        defer { directory.remove() }
        let lease = try await NoProxy().lease(for: "c1", hints: ProxyHints(), store: store)
        #expect(lease.endpoint == nil)
        #expect(try await NoProxy().check(lease) == .unchecked)
        await store.shutdown()
    }
}

private let httpProxyRequired = HTTPProxyServer.binary != nil || TestServices.required

@Suite("A chip's session through its proxy, end to end with the simulator and a real HTTP proxy", .enabled(if: httpProxyRequired && socksRequired),
       .timeLimit(.minutes(10)))
struct ProxiedSessionTests {
    @Test("the session's probe passes through the leased HTTP proxy (DataImpulse's HTTP face, tinyproxy with basic auth); with the proxy stopped the session goes FAILED with the reason")
    func proxiedSession() async throws {
        let peer = LoopbackPeer()
        try await peer.start()
        defer { Task { await peer.stop() } }
        let proxy = try await HTTPProxyServer.start(username: "di-user__cr.br", password: "di-pass")
        let (store, directory) = try await store(chips: ["chip_proxied", "chip_orphan"])
        defer { directory.remove() }
        // No protocol configured: WAHA's engine (GOWS) takes HTTP, and that is what the lease is.
        let sessions = WAHAPlusProvider(requestTimeout: .seconds(20))
        let proxies = DataImpulseProxy(gateway: "127.0.0.1", login: "di-user", password: Secret("di-pass"),
                                       stickyPorts: try PortRange(proxy.port, proxy.port), checkOnLease: false)
        let worker = try await Worker.launch(sessions, probeURL: await peer.probeURL)
        defer { Task { await worker.stop() } }
        let webhook = WebhookTarget(url: await peer.hookURL, secret: Secret("s"))

        let lease = try await proxies.lease(for: "chip_proxied", hints: ProxyHints(schemes: sessions.proxySchemes), store: store)
        #expect(lease.endpoint?.scheme == .http)
        try await sessions.ensureSession(ChipSpec(chip: "chip_proxied", tenant: "t1"), on: worker.endpoint, proxy: proxies.endpoint(for: lease), webhook: webhook)
        try await waitForStatus(sessions, "chip_proxied", on: worker.endpoint, .scanQRCode)
        #expect(await peer.probeHits == 1, "the simulator's probe went through tinyproxy to the probe server")

        try await proxy.stop()
        try await sessions.restart("chip_proxied", on: worker.endpoint)
        try await waitForStatus(sessions, "chip_proxied", on: worker.endpoint, .failed)
        try await peer.waitForWebhooks("a FAILED status webhook naming the proxy") { webhooks in
            webhooks.contains { webhook in
                let text = String(decoding: webhook.body, as: UTF8.self)
                return text.contains(#""status":"FAILED""#) && text.contains("proxy")
            }
        }
        #expect(await peer.probeHits == 1)
        await store.shutdown()
    }

    @Test("a SOCKS5 lease (microsocks) for GOWS is refused before the worker is asked: no session is created")
    func socksRefusedOnGOWS() async throws {
        let socks = try await SOCKSServer.start(username: "di-user__cr.br", password: "di-pass")
        defer { Task { try await socks.stop() } }
        let sessions = WAHAPlusProvider(requestTimeout: .seconds(20))
        let worker = try await Worker.launch(sessions)
        defer { Task { await worker.stop() } }
        let endpoint = ProxyEndpoint(scheme: .socks5h, host: "127.0.0.1", port: socks.port, username: "di-user__cr.br", password: Secret("di-pass"))
        await #expect {
            try await sessions.ensureSession(ChipSpec(chip: "chip_socks", tenant: "t1"), on: worker.endpoint, proxy: endpoint,
                                             webhook: WebhookTarget(url: URL(string: "http://127.0.0.1:9/hook")!, secret: Secret("s")))
        } throws: { ($0 as? WhagoError)?.code == .invalidConfig }
        #expect(try await sessions.sessions(on: worker.endpoint).isEmpty)
    }
}
