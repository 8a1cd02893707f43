import CurlHTTP
import DataImpulseProxy
import FileStore
import Foundation
import NoProxy
import StaticProxy
import Testing
import WAHAPlusProvider
import WhagoCore
import WhagoTesting

/// The shared conformance suites, run for every compiled-in session and proxy provider.
/// waha-plus on each engine the simulator models (`WHATSAPP_DEFAULT_ENGINE` from the worker's
/// template), its proxies through real ones: tinyproxy for HTTP, microsocks for SOCKS5.
@Suite("waha-plus conforms to SessionProviderConformance on every engine (against whago waha-sim)", .timeLimit(.minutes(10)),
       .enabled(if: (HTTPProxyServer.binary != nil && SOCKSServer.binary != nil) || TestServices.required))
struct WAHAPlusConformanceTests {
    static func suite(engine: String) -> SessionProviderConformance {
        let provider = WAHAPlusProvider(engine: engine, requestTimeout: .seconds(20))
        return SessionProviderConformance(
            provider: provider,
            launch: {
                let worker = try await Worker.launch(provider, timeScale: 1)
                return SessionProviderConformance.Worker(endpoint: worker.endpoint, stop: { await worker.stop() })
            },
            pair: { value in
                // The simulator's virtual phone: the QR value names the worker that showed it.
                guard value.hasPrefix("waha-sim://"), let authority = value.dropFirst("waha-sim://".count).split(separator: "/").first else {
                    throw WhagoError(.protocolError, "not a simulator QR value: \(value)")
                }
                let body = try JSONEncoder().encode(["qr": value])
                let response = try await HTTPClient.shared.execute(HTTPClientRequest(
                    .post, "http://\(authority)/_sim/scan", headers: [("Content-Type", "application/json")], body: Array(body), timeout: .seconds(10)))
                guard (200..<300).contains(response.status) else { throw WhagoError(.unavailable, "scan refused: \(response.status)") }
            },
            proxy: { scheme in
                switch scheme {
                case .http:
                    let proxy = try await HTTPProxyServer.start(username: "conformance", password: "proxy-pass")
                    return .init(endpoint: ProxyEndpoint(scheme: .http, host: "127.0.0.1", port: proxy.port, username: "conformance",
                                                         password: Secret("proxy-pass")),
                                 stop: { try? await proxy.stop() })
                case .socks5, .socks5h:
                    let socks = try await SOCKSServer.start(username: "conformance", password: "proxy-pass")
                    return .init(endpoint: ProxyEndpoint(scheme: scheme, host: "127.0.0.1", port: socks.port, username: "conformance",
                                                         password: Secret("proxy-pass")),
                                 stop: { try? await socks.stop() })
                case .https:
                    return nil
                }
            })
    }

    @Test(arguments: ["GOWS", "NOWEB", "WEBJS"], SessionProviderConformance.Check.allCases)
    func conformance(_ engine: String, _ check: SessionProviderConformance.Check) async throws {
        try await Self.suite(engine: engine).run(check)
    }
}

private let socksAvailable = SOCKSServer.binary != nil || TestServices.required

@Suite("dataimpulse, static and none conform to ProxyProviderConformance", .enabled(if: socksAvailable), .timeLimit(.minutes(10)))
struct ProxyConformanceTests {
    /// Each provider as a deployer would configure it, in front of a real microsocks on 127.0.0.1.
    static func subject(_ driver: String, probeURL: String) async throws -> ProxyProviderConformance.Subject {
        switch driver {
        case "dataimpulse":
            // The gateway is microsocks; the first sticky port is its port (the only one `check`
            // connects to: the lowest free port goes to the first lease), 8 ports in all.
            let socks = try await SOCKSServer.start(username: "di-user__cr.br", password: "di-pass")
            let provider = DataImpulseProxy(gateway: "127.0.0.1", login: "di-user", password: Secret("di-pass"), protocol: "socks5",
                                            stickyPorts: try PortRange(socks.port, socks.port + 7), probeURL: probeURL, checkOnLease: false)
            return .init(provider: provider, capacity: 8, exclusive: true, checks: true,
                         credentials: .init(username: "di-user__cr.br", password: "di-pass"), stop: { try? await socks.stop() })
        case "static":
            let socks = try await SOCKSServer.start(username: "whago", password: "static-pass")
            // Three more that refuse connections (never connected to: the first lease takes the first URL).
            let refusing = try (1...3).map { _ in try RefusingPort() }
            let urls = [Secret("socks5://whago:static-pass@127.0.0.1:\(socks.port)")] + refusing.map { Secret("socks5://u:p@127.0.0.1:\($0.port)") }
            let provider = try StaticProxy(proxies: urls, probeURL: probeURL)
            return .init(provider: provider, capacity: 4, exclusive: true, checks: true, credentials: .init(username: "whago", password: "static-pass"),
                         stop: { try? await socks.stop(); _ = refusing })
        default:
            return .init(provider: NoProxy(), capacity: nil, exclusive: false, checks: false, credentials: nil)
        }
    }

    static func suite(_ driver: String) -> ProxyProviderConformance {
        ProxyProviderConformance(make: { try await subject(driver, probeURL: $0) }, store: {
            let directory = try TemporaryDirectory("proxy-conformance")
            let store = try await FileStore(directory: directory.path)
            return (store, { await store.shutdown(); directory.remove() })
        })
    }

    @Test(arguments: ["dataimpulse", "static", "none"], ProxyProviderConformance.Check.allCases)
    func conformance(_ driver: String, _ check: ProxyProviderConformance.Check) async throws {
        try await Self.suite(driver).run(check)
    }
}
