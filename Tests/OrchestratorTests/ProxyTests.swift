import Foundation
import Orchestrator
import Testing
import WhagoCore
import WAHAPlusProvider
import WhagoRig
import WhagoTesting

extension OrchestratorScenarios {
    @Suite("The orchestrator and chips' proxies", .timeLimit(.minutes(5)),
           .enabled(if: (SOCKS.binary != nil && HTTPProxyServer.binary != nil) || TestServices.required))
    struct ProxyTests {
        @Test("a chip's proxy that fails its check is reported to the tenant (chip.proxy_failed), released, and leased again once it works")
        func failingProxy() async throws {
            let login = "di-user", password = "di-pass-\(UUID().uuidString.prefix(8))"
            let port = try freePort()
            // DataImpulse logs in as <login>__cr.<country>; tinyproxy plays its gateway's HTTP face
            // (what WAHA's engines take) on one sticky port.
            var gateway = try await HTTPProxyServer.start(port: port, username: "\(login)__cr.br", password: password)
            let directory = try TemporaryDirectory("orchestrator-proxy")
            let range = try freePortRange(count: 2)
            var settings = testSettings()
            settings.proxyCheckInterval = .seconds(1)
            let rig = try await OrchestratorRig.start(OrchestratorRig.Options(
                directory: directory.path, proxy: .dataImpulse(ports: try PortRange(port, port), login: login, password: password),
                ports: try PortRange(range.lowerBound, range.upperBound), settings: settings))
            do {
                let tenant = try await makeTenant(rig, "proxied")
                let chip = try await rig.orchestrator.chips.create(ChipService.Request(name: "behind a proxy", country: "br"), for: tenant)
                try await rig.waitForStatus(chip.id, .scanQRCode)
                let first = try #require(try await rig.store.proxyLease(of: chip.id))
                #expect(first.stickyPort == port)
                #expect(first.endpoint?.scheme == .http, "GOWS takes HTTP only: the gateway's HTTP face")

                try await gateway.stop()
                try await waitUntil("the failed check is reported") { rig.orchestrator.counters[.proxiesFailed] >= 1 }
                let reported = try await rig.store.events(of: tenant, after: 0, limit: 100).first { $0.event.kind == .proxyFailed }
                #expect(reported?.chip == chip.id)
                #expect(reported?.event.payload["error"]?.stringValue?.isEmpty == false)
                #expect(reported?.event.payload["replaced"] == .bool(true))
                #expect(reported?.event.payload["proxy"]?.stringValue?.contains(password) == false, "no password in an event")
                // Released: while the gateway is down no new lease passes its check, so the chip holds none.
                try await waitUntil("the failed lease is released") { try await rig.store.proxyLease(of: chip.id) == nil }

                // The gateway comes back: the chip is leased again, a new lease on the sticky port.
                gateway = try await HTTPProxyServer.start(port: port, username: "\(login)__cr.br", password: password)
                try await waitUntil("the chip holds a lease again") { try await rig.store.proxyLease(of: chip.id) != nil }
                let again = try #require(try await rig.store.proxyLease(of: chip.id))
                #expect(again.leasedAt > first.leasedAt, "a new lease, not the failed one kept")
                #expect(again.stickyPort == port)
                try await gateway.stop()
            } catch {
                try? await gateway.stop()
                await tearDown(rig, directory)
                throw error
            }
            await tearDown(rig, directory)
        }

        @Test("a DataImpulse chip goes through the gateway's HTTP face (tinyproxy, basic auth) to WORKING, on GOWS and on NOWEB",
              arguments: ["GOWS", "NOWEB"])
        func httpFace(engine: String) async throws {
            let login = "di-user", password = "di-pass-\(UUID().uuidString.prefix(8))"
            let port = try freePort()
            let gateway = try await HTTPProxyServer.start(port: port, username: "\(login)__cr.br", password: password)
            defer { Task { try? await gateway.stop() } }
            let directory = try TemporaryDirectory("orchestrator-http-proxy")
            let range = try freePortRange(count: 2)
            var options = OrchestratorRig.Options(directory: directory.path, proxy: .dataImpulse(ports: try PortRange(port, port), login: login, password: password),
                                                  ports: try PortRange(range.lowerBound, range.upperBound), settings: testSettings())
            options.engine = engine
            let rig = try await OrchestratorRig.start(options)
            do {
                let tenant = try await makeTenant(rig, "proxied")
                let created = try await rig.orchestrator.chips.create(ChipService.Request(name: "through http", country: "br"), for: tenant)
                let waiting = try await rig.waitForStatus(created.id, .scanQRCode)
                #expect(try await rig.store.proxyLease(of: created.id)?.endpoint?.scheme == .http)
                // The worker's session really connected through the proxy at start (the simulator
                // opens a request through it, as WAHA's engine would); now it pairs.
                try await scan(rig, waiting, as: tenant)
                _ = try await rig.waitForStatus(created.id, .working)
                let worker = try await workerOf(rig, waiting)
                let session = try await rig.sessions.status(of: created.id, on: rig.endpoint(of: worker))
                #expect(session?.status == .working)
            } catch {
                await tearDown(rig, directory)
                throw error
            }
            await tearDown(rig, directory)
        }

        @Test("a SOCKS5 lease for a GOWS chip is refused before its worker is asked: the chip says why, the worker has no session")
        func socksRefusedOnGOWS() async throws {
            let login = "di-user", password = "di-pass"
            let port = try freePort()
            let socks = try await SOCKS.start(port: port, username: "\(login)__cr.br", password: password)
            defer { Task { try? await socks.stop() } }
            let directory = try TemporaryDirectory("orchestrator-socks-gows")
            let range = try freePortRange(count: 2)
            // `protocol: socks5` written (check-config refuses it beside GOWS; the rig builds drivers directly).
            let rig = try await OrchestratorRig.start(OrchestratorRig.Options(
                directory: directory.path, proxy: .dataImpulse(ports: try PortRange(port, port), login: login, password: password, protocol: "socks5"),
                ports: try PortRange(range.lowerBound, range.upperBound), settings: testSettings()))
            do {
                let tenant = try await makeTenant(rig, "socks")
                let created = try await rig.orchestrator.chips.create(ChipService.Request(name: "socks"), for: tenant)
                let failed = try await rig.waitForChip(created.id, "failed for its proxy") { $0?.status == .failed }
                let reason = try await rig.store.events(of: tenant, after: 0, limit: 100)
                    .last { $0.chip == created.id && $0.event.status == .failed }?.event.payload["reason"]?.stringValue
                #expect(reason?.contains("GOWS engine cannot use a socks5h proxy") == true, "\(String(describing: reason))")
                let worker = try await workerOf(rig, try #require(failed))
                #expect(try await rig.sessions.sessions(on: rig.endpoint(of: worker)).isEmpty, "no session was created on the worker")
            } catch {
                await tearDown(rig, directory)
                throw error
            }
            await tearDown(rig, directory)
        }
    }
}

/// microsocks on 127.0.0.1, owned by the test.
struct SOCKS {
    let process: ChildProcess

    static let binary: String? = ["/usr/bin/microsocks", "/usr/local/bin/microsocks"].first { FileManager.default.isExecutableFile(atPath: $0) }

    static func start(port: Int, username: String, password: String) async throws -> SOCKS {
        let binary = try #require(binary, Comment(rawValue: TestServices.missing("microsocks")))
        let process = try ChildProcess(binary, ["-i", "127.0.0.1", "-p", "\(port)", "-u", username, "-P", password])
        try await waitUntil("microsocks listens") { acceptsConnections(port: port) }
        return SOCKS(process: process)
    }

    func stop() async throws {
        process.signal(SIGKILL)
        _ = try await process.waitForExit()
    }
}
