import Foundation
import Testing
import WhagoTesting

/// check-config refuses what is unsafe or what WAHA would refuse, where it is written.
extension CheckConfigTests {
    @Test("unsafe settings are refused where they are written: a remote dockerd without TLS, a webhook window shorter than WAHA's retries")
    func unsafeSettings() async throws {
        let directory = try TemporaryDirectory("check")
        defer { directory.remove() }
        try directory.write("unsafe.yaml", """
            runtime:
              driver: docker
              docker:
                socket: tcp://10.1.2.3:2375
            sessions:
              driver: waha-plus
              waha-plus:
                webhookMaxSkew: 10m
            proxy: {driver: none}
            store: {driver: file}
            """)
        let result = try await whago("check-config", "unsafe.yaml", directory: directory.path)
        #expect(result.status == 1)
        let lines = result.stderr.split(separator: "\n").map(String.init)
        #expect(lines.count == 2, "\(result.stderr)")
        #expect(lines.first?.hasPrefix("unsafe.yaml:4:13: runtime.docker.socket: tcp://10.1.2.3:2375 is not a loopback address") == true, "\(lines)")
        #expect(lines.first?.contains("runtime.docker.tls") == true)
        #expect(lines.last?.hasPrefix("unsafe.yaml:8:21: sessions.waha-plus.webhookMaxSkew: webhookMaxSkew (10m) must be longer than WAHA's webhook retry schedule (4911s") == true,
                "\(lines)")
    }

    @Test("a guessable admin token is refused (without showing it); a replay window as long as the event log's retention is refused")
    func weakSettings() async throws {
        let directory = try TemporaryDirectory("check")
        defer { directory.remove() }
        let base = "runtime: {driver: local}\nproxy: {driver: none}\n"
        try directory.write("token.yaml", base + "server: {adminToken: sh0rt-t0ken}\nsessions: {driver: waha-plus}\nstore: {driver: file}\n")
        let token = try await whago("check-config", "token.yaml", directory: directory.path)
        #expect(token.status == 1)
        #expect(token.stderr.contains("token.yaml:3:22: server.adminToken: the admin token is 11 characters; it must be at least 32"), "\(token.stderr)")
        #expect(!token.stderr.contains("sh0rt-t0ken"))

        try directory.write("replay.yaml", base + "sessions: {driver: waha-plus, waha-plus: {webhookMaxSkew: 3h}}\nstore: {driver: file, eventRetention: 2h}\n")
        let replay = try await whago("check-config", "replay.yaml", directory: directory.path)
        #expect(replay.status == 1)
        #expect(replay.stderr.contains("store.eventRetention (2h) must be longer than sessions.waha-plus.webhookMaxSkew (3h)"), "\(replay.stderr)")
        try directory.write("fine.yaml", base + "sessions: {driver: waha-plus, waha-plus: {webhookMaxSkew: 2h}}\nstore: {driver: file, eventRetention: 3h}\n")
        let fine = try await whago("check-config", "fine.yaml", directory: directory.path)
        #expect(fine.status == 0, "\(fine.stderr)")

        // A dockerd on plain TCP, even on loopback, is root for every local process (a worker on
        // the host network too): refused unless accepted in writing.
        let rest = "sessions: {driver: waha-plus}\nproxy: {driver: none}\nstore: {driver: file}\n"
        try directory.write("tcp.yaml", "runtime: {driver: docker, docker: {socket: 'tcp://127.0.0.1:2375'}}\n" + rest)
        let tcp = try await whago("check-config", "tcp.yaml", directory: directory.path)
        #expect(tcp.status == 1)
        #expect(tcp.stderr.contains("runtime.docker.socket: tcp://127.0.0.1:2375 is a Docker daemon on plain TCP") && tcp.stderr.contains("plainTCP: true"),
                "\(tcp.stderr)")
        try directory.write("swarm-tcp.yaml", "runtime: {driver: swarm, swarm: {socket: 'tcp://localhost:2375'}}\n" + rest)
        #expect(try await whago("check-config", "swarm-tcp.yaml", directory: directory.path).stderr.contains("runtime.swarm.plainTCP: true"))
        try directory.write("accepted.yaml", "runtime: {driver: docker, docker: {socket: 'tcp://127.0.0.1:2375', plainTCP: true}}\n" + rest)
        let accepted = try await whago("check-config", "accepted.yaml", directory: directory.path)
        #expect(accepted.status == 0, "\(accepted.stderr)")
    }

    @Test("store.eventRetention: shared by every store, at least 1h, and a key of the store section only")
    func eventRetention() async throws {
        let directory = try TemporaryDirectory("check")
        defer { directory.remove() }
        let base = "sessions: {driver: waha-plus}\nproxy: {driver: none}\n"
        try directory.write("ok.yaml", base + "runtime: {driver: local}\nstore: {driver: file, eventRetention: 2d}\n")
        try directory.write("short.yaml", base + "runtime: {driver: local}\nstore: {driver: file, eventRetention: 30m}\n")
        try directory.write("misplaced.yaml", base + "runtime: {driver: local, eventRetention: 2d}\nstore: {driver: file}\n")
        let ok = try await whago("check-config", "ok.yaml", directory: directory.path)
        #expect(ok.status == 0, "\(ok.stderr)")
        let short = try await whago("check-config", "short.yaml", directory: directory.path)
        #expect(short.status == 1)
        #expect(short.stderr.contains("short.yaml:4:39: store.eventRetention: eventRetention must be at least 1h"), "\(short.stderr)")
        let misplaced = try await whago("check-config", "misplaced.yaml", directory: directory.path)
        #expect(misplaced.status == 1)
        #expect(misplaced.stderr.contains("unknown key 'eventRetention' in runtime"), "\(misplaced.stderr)")
    }

    @Test("a proxy driver whose proxies the engine cannot use is refused where it is written, saying why and what to choose — at check-config, doctor and serve")
    func proxyEngineMismatch() async throws {
        let directory = try TemporaryDirectory("check")
        defer { directory.remove() }
        let base = "runtime: {driver: local}\nstore: {driver: file}\n"
        try directory.write("static-socks.yaml", base + """
            sessions: {driver: waha-plus}
            proxy:
              driver: static
              static:
                proxies: ["socks5://u:static-pa55@127.0.0.1:1080", "socks5h://u:static-pa55@127.0.0.1:1081"]

            """)
        try directory.write("di-socks.yaml", base + """
            sessions: {driver: waha-plus, waha-plus: {engine: NOWEB}}
            proxy:
              driver: dataimpulse
              dataimpulse: {login: l, password: di-pa55, protocol: socks5}

            """)
        try directory.write("di-default.yaml", base + """
            sessions: {driver: waha-plus, waha-plus: {engine: WEBJS}}
            proxy:
              driver: dataimpulse
              dataimpulse: {login: l, password: di-pa55}

            """)
        try directory.write("static-mixed.yaml", base + """
            sessions: {driver: waha-plus}
            proxy: {driver: static, static: {proxies: ["socks5://u:p@127.0.0.1:1080", "http://u:p@127.0.0.1:3128"]}}

            """)
        let staticSocks = try await whago("check-config", "static-socks.yaml", directory: directory.path)
        #expect(staticSocks.status == 1)
        #expect(staticSocks.stderr.contains("static-socks.yaml:7:14: proxy.static.proxies: its proxies are socks5, socks5h, and sessions driver 'waha-plus' "
            + "can use only http (GOWS builds http://user:password@server from it: HTTP only): give it http proxies"), "\(staticSocks.stderr)")
        let diSocks = try await whago("check-config", "di-socks.yaml", directory: directory.path)
        #expect(diSocks.status == 1)
        #expect(diSocks.stderr.contains("di-socks.yaml:6:56: proxy.dataimpulse.protocol: its proxies are socks5h, and sessions driver 'waha-plus' "
            + "can use only http, https (NOWEB connects through an HTTP(S) proxy agent): give it http, https proxies"), "\(diSocks.stderr)")
        for file in ["static-socks.yaml", "di-socks.yaml"] {
            let result = try await whago("check-config", file, directory: directory.path)
            #expect(!result.stderr.contains("pa55"), "no secret in the error")
        }
        for file in ["di-default.yaml", "static-mixed.yaml"] {
            let result = try await whago("check-config", file, directory: directory.path)
            #expect(result.status == 0, "\(file): \(result.stderr)")
        }
        // The same refusal before doctor or serve does anything.
        for command in ["doctor", "serve"] {
            let result = try await whago(command, "--config", "static-socks.yaml", "--set", "server.dataDir=\(directory.path)/data-\(command)",
                                         directory: directory.path)
            #expect(result.status != 0, "\(command)")
            #expect(result.stderr.contains("static-socks.yaml:7:14: proxy.static.proxies: its proxies are socks5, socks5h"), "\(command): \(result.stderr)")
            #expect(!FileManager.default.fileExists(atPath: "\(directory.path)/data-\(command)"), "\(command) wrote nothing")
        }
    }

    @Test("a publicURL WAHA would refuse as a webhook URL (an underscore in the host, not http) is an error at its line")
    func publicURLForWAHA() async throws {
        let directory = try TemporaryDirectory("check")
        defer { directory.remove() }
        let base = "runtime: {driver: local}\nsessions: {driver: waha-plus}\nproxy: {driver: none}\nstore: {driver: file}\n"
        try directory.write("underscore.yaml", "server: {publicURL: 'http://stack_whago:8080'}\n" + base)
        try directory.write("ftp.yaml", "server: {publicURL: 'ftp://whago.internal'}\n" + base)
        try directory.write("fine.yaml", "server: {publicURL: 'http://whago-api.internal:8080'}\n" + base)
        let underscore = try await whago("check-config", "underscore.yaml", directory: directory.path)
        #expect(underscore.status == 1)
        #expect(underscore.stderr.contains("underscore.yaml:1:21: server.publicURL: the host 'stack_whago' is not a host name WAHA accepts in a webhook URL"),
                "\(underscore.stderr)")
        let ftp = try await whago("check-config", "ftp.yaml", directory: directory.path)
        #expect(ftp.status == 1)
        #expect(ftp.stderr.contains("ftp.yaml:1:21: server.publicURL: 'ftp://whago.internal' must be an http:// or https:// URL"), "\(ftp.stderr)")
        let fine = try await whago("check-config", "fine.yaml", directory: directory.path)
        #expect(fine.status == 0, "\(fine.stderr)")
    }
}
