import Foundation
import Testing
import WhagoTesting

@Suite("whago check-config", .timeLimit(.minutes(10)))
struct CheckConfigTests {
    @Test("every file in Config/ passes", arguments: ["whago.yaml", "docker.yaml", "production.example.yaml", "swarm.yaml"])
    func configFiles(name: String) async throws {
        let directory = try TemporaryDirectory("check")
        defer { directory.remove() }
        let path = "\(configDirectory)/\(name)"
        let result = try await whago("check-config", path, environment: try sampleEnvironment(in: directory))
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.hasPrefix("\(path): ok (runtime="))
        #expect(result.stderr.isEmpty)
    }

    @Test("workers on a bridge network cannot reach a loopback publicURL: check-config warns and says what to set")
    func unreachablePublicURL() async throws {
        let directory = try TemporaryDirectory("check")
        defer { directory.remove() }
        try directory.write("bridge.yaml", """
            server:
              listen: 127.0.0.1:8080
            runtime:
              driver: docker
              docker: { network: bridge }
            sessions: { driver: waha-plus }
            proxy: { driver: none }
            store: { driver: file }
            """)
        let result = try await whago("check-config", "bridge.yaml", directory: directory.path)
        #expect(result.status == 0, "a warning, not an error")
        #expect(result.stdout.contains("bridge.yaml: warning: server.publicURL http://127.0.0.1:8080 names a loopback address"), "\(result.stdout)")
        #expect(result.stdout.contains("host.docker.internal:8080"))
        try directory.write("host.yaml", """
            runtime: { driver: docker, docker: { network: host } }
            sessions: { driver: waha-plus }
            proxy: { driver: none }
            store: { driver: file }
            """)
        let host = try await whago("check-config", "host.yaml", directory: directory.path)
        #expect(!host.stdout.contains("warning"), "host networking shares whago's loopback: \(host.stdout)")
    }

    @Test("--placeholders: a CI without secrets checks production.example.yaml; unset variables and missing secret files are listed, all else stays strict")
    func placeholders() async throws {
        let directory = try TemporaryDirectory("check")
        defer { directory.remove() }
        let path = "\(configDirectory)/production.example.yaml"
        let strict = try await whago("check-config", path, directory: directory.path)
        #expect(strict.status == 1, "without the flag an unset variable is an error")
        #expect(strict.stderr.contains("environment variable 'DATAIMPULSE_LOGIN' is not set"), "\(strict.stderr)")

        let result = try await whago("check-config", "--placeholders", path, directory: directory.path)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("\(path): ok with "), "\(result.stdout)")
        #expect(result.stdout.contains("(runtime=docker sessions=waha-plus proxy=dataimpulse store=postgres)"))
        for expected in ["${DATAIMPULSE_LOGIN} is not set", "${WHAGO_DATABASE_URL} is not set",
                         "the secret file '/run/secrets/dataimpulse' does not exist", "the secret file '/run/secrets/whago-admin-token' does not exist"] {
            #expect(result.stdout.contains(expected), "\(expected) in \(result.stdout)")
        }
        let loginLine = try #require(try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
            .firstIndex { $0.contains("${DATAIMPULSE_LOGIN}") }) + 1
        #expect(result.stdout.contains("production.example.yaml:\(loginLine):"), "placeholders are located: \(result.stdout)")

        // Everything that does not depend on a placeholder is still checked.
        try directory.write("typo.yaml", """
            server:
              listen: ${WHAGO_LISTEN}
              adminToken: file:/nowhere/token
            runtime: { driver: local }
            sessions: { driver: waha-plus, waha-plus: { sessionsPerWorkr: 5 } }
            proxy: { driver: none }
            store: { driver: file }
            orchestrator:
              healthInterval: ${HEALTH:-15}
            """)
        let typo = try await whago("check-config", "--placeholders", "typo.yaml", directory: directory.path)
        #expect(typo.status == 1)
        #expect(typo.stderr.contains("typo.yaml:5:45: unknown key 'sessionsPerWorkr'"), "\(typo.stderr)")
        #expect(typo.stderr.contains("typo.yaml:9:19: orchestrator.healthInterval: invalid duration '15'"), "a default is not a placeholder: \(typo.stderr)")
        #expect(!typo.stderr.contains("WHAGO_LISTEN") && !typo.stderr.contains("/nowhere/token"), "\(typo.stderr)")
    }

    @Test("swarm.yaml selects swarm, waha-plus with sessions in PostgreSQL, dataimpulse and postgres")
    func swarm() async throws {
        let directory = try TemporaryDirectory("check")
        defer { directory.remove() }
        let result = try await whago("check-config", "\(configDirectory)/swarm.yaml", environment: try sampleEnvironment(in: directory))
        #expect(result.stdout.contains("(runtime=swarm sessions=waha-plus proxy=dataimpulse store=postgres)"), "\(result.stdout) \(result.stderr)")
        var environment = try sampleEnvironment(in: directory)
        environment["WAHA_SESSIONS_DATABASE_URL"] = "mysql://nope"
        let wrong = try await whago("check-config", "\(configDirectory)/swarm.yaml", environment: environment)
        #expect(wrong.status != 0)
        #expect(wrong.stderr.contains("sessionsDatabaseURL"), "\(wrong.stderr)")
        #expect(!wrong.stderr.contains("mysql://nope"), "the URL (a secret) is not shown")
    }

    @Test("production.example.yaml selects docker, waha-plus, dataimpulse and postgres")
    func production() async throws {
        let directory = try TemporaryDirectory("check")
        defer { directory.remove() }
        let result = try await whago("check-config", "\(configDirectory)/production.example.yaml", environment: try sampleEnvironment(in: directory))
        #expect(result.stdout.contains("(runtime=docker sessions=waha-plus proxy=dataimpulse store=postgres)"))
    }

    @Test("the orchestrator section is strict: unknown keys, bare numbers and too short intervals are errors where they are written",
          arguments: [
              ("healthInterval: 15", "2:19: orchestrator.healthInterval: invalid duration '15': a unit is required"),
              ("reconcileIntervall: 60s", "2:3: unknown key 'reconcileIntervall' in orchestrator (expected one of: healthInterval, reconcileInterval,"),
              ("leaderLeaseTTL: 10ms", "2:19: orchestrator.leaderLeaseTTL: leaderLeaseTTL must be at least 1s"),
              ("failedRestarts: -1", "2:19: orchestrator.failedRestarts: expected 0 or more, got -1"),
          ])
    func orchestratorSection(line: String, error: String) async throws {
        let directory = try TemporaryDirectory("check")
        defer { directory.remove() }
        try directory.write("orchestrator.yaml", """
            orchestrator:
              \(line)
            runtime: { driver: local }
            sessions: { driver: waha-plus }
            proxy: { driver: none }
            store: { driver: file }
            """)
        let result = try await whago("check-config", "orchestrator.yaml", directory: directory.path)
        #expect(result.status == 1)
        #expect(result.stderr.hasPrefix("orchestrator.yaml:" + error), "\(result.stderr)")
    }

    @Test("limits.sending and webhooks are strict too, errors where they are written",
          arguments: [
              ("limits:\n  sending:\n    minGap: 3", "3:13: limits.sending.minGap: invalid duration '3': a unit is required"),
              ("limits:\n  sending:\n    dailyCap: 10\n    warmup: [5, 20]", "4:13: limits.sending.warmup: warmup day 2 allows 20 messages, more than dailyCap (10)"),
              ("limits:\n  apiBurst: 0", "2:13: limits.apiBurst: expected a whole number of at least 1, got 0"),
              ("webhooks:\n  maxAttempts: many", "2:16: webhooks.maxAttempts: expected a whole number, found 'many'"),
              ("webhooks:\n  initialBackoff: 5s\n  maxBackoff: 1s", "3:15: webhooks.maxBackoff: maxBackoff must be at least 5s"),
              ("webhooks:\n  retries: 3", "2:3: unknown key 'retries' in webhooks (expected one of: maxAttempts, initialBackoff, maxBackoff,"),
          ])
    func limitsAndWebhooks(section: String, error: String) async throws {
        let directory = try TemporaryDirectory("check")
        defer { directory.remove() }
        try directory.write("sections.yaml", section + """

            runtime: { driver: local }
            sessions: { driver: waha-plus }
            proxy: { driver: none }
            store: { driver: file }
            """)
        let result = try await whago("check-config", "sections.yaml", directory: directory.path)
        #expect(result.status == 1)
        #expect(result.stderr.hasPrefix("sections.yaml:" + error), "\(result.stderr)")
    }

    @Test("runtime.swarm's placement is checked where it is written: constraints in Swarm's syntax on attributes it knows, spread over labels",
          arguments: [
              ("constraints: [node.labels.whago = true]", "5:18: runtime.swarm.constraints: 'node.labels.whago = true' is not a Swarm constraint"),
              ("constraints: [node.colour == red]", "5:18: runtime.swarm.constraints: 'node.colour == red' is not a Swarm constraint such as node.labels.whago == true (attributes: node.id, node.hostname, node.role,"),
              ("constraints: [node.labels. == x]", "5:18: runtime.swarm.constraints: 'node.labels. == x' is not a Swarm constraint"),
              ("spread: [node.role]", "5:13: runtime.swarm.spread: 'node.role' is not a node label to spread over, such as node.labels.zone"),
              ("nodeAddressVariable: 'A B'", "5:26: runtime.swarm.nodeAddressVariable: 'A B' is not an environment variable name"),
          ])
    func swarmPlacement(setting: String, error: String) async throws {
        let directory = try TemporaryDirectory("check")
        defer { directory.remove() }
        try directory.write("swarm.yaml", """
            runtime:
              driver: swarm
              swarm:
                socket: /var/run/docker.sock
                \(setting)
            sessions: { driver: waha-plus }
            proxy: { driver: none }
            store: { driver: file }
            """)
        let result = try await whago("check-config", "swarm.yaml", directory: directory.path)
        #expect(result.status == 1)
        #expect(result.stderr.hasPrefix("swarm.yaml:" + error), "\(result.stderr)")
    }

    @Test("a typo is reported as file:line:column with the valid keys, and the exit status is 1")
    func typo() async throws {
        let directory = try TemporaryDirectory("check")
        defer { directory.remove() }
        try directory.write("bad.yaml", """
            runtime:
              driver: local
            sessions:
              driver: waha-plus
            store:
              driver: file
            proxy:
              driver: dataimpulse
              dataimpulse:
                login: me
                password: secret
                prot: socks5
            """)
        let result = try await whago("check-config", "bad.yaml", directory: directory.path)
        #expect(result.status == 1)
        #expect(result.stdout.isEmpty)
        #expect(result.stderr == """
            bad.yaml:12:5: unknown key 'prot' in proxy.dataimpulse (expected one of: gateway, protocol, login, password, country, city, sessionTTL, stickyPorts, probeURL, checkOnLease, tenantLogins)

            """)
    }

    @Test("every error of every file is printed, good files still get their line")
    func severalFiles() async throws {
        let directory = try TemporaryDirectory("check")
        defer { directory.remove() }
        try directory.write("broken.yaml", "runtime: {driver: dokcer}\nsessions: {driver: waha-plus}\nproxy: {driver: none}\nstore: {driver: file, file: {path: ''}}\nlimits: {chipsPerTenant: -1}\n")
        let result = try await whago("check-config", "broken.yaml", "\(configDirectory)/whago.yaml", "missing.yaml", directory: directory.path)
        #expect(result.status == 1)
        #expect(result.stdout.contains("whago.yaml: ok"))
        let lines = result.stderr.split(separator: "\n").map(String.init)
        #expect(lines == [
            "broken.yaml:1:19: runtime.driver: unknown runtime driver 'dokcer' (compiled-in runtime drivers: local, docker, swarm)",
            "broken.yaml:4:36: store.file.path: expected a non-empty string",
            "broken.yaml:5:26: limits.chipsPerTenant: expected a whole number of at least 1, got -1",
            "cannot read configuration file 'missing.yaml': no such file",
        ])
    }

    @Test("every problem of a file in one run: an unset variable, a missing secret file and a bad value together, each where it is written")
    func everyProblemAtOnce() async throws {
        let directory = try TemporaryDirectory("check")
        defer { directory.remove() }
        try directory.write("all.yaml", """
            server: { adminToken: file:\(directory.path)/no-such-token, listen: 127.0.0.1:8080 }
            limits: { chipsPerTenant: 0 }
            runtime: { driver: local }
            sessions: { driver: waha-plus }
            proxy:
              driver: dataimpulse
              dataimpulse:
                login: ${WHAGO_TEST_SURELY_UNSET_LOGIN}
                password: pw
            store: { driver: file }
            """)
        let result = try await whago("check-config", "all.yaml", directory: directory.path)
        #expect(result.status == 1)
        let lines = result.stderr.split(separator: "\n").map(String.init)
        #expect(lines.count == 3, "\(lines)")
        #expect(lines.first?.hasPrefix("all.yaml:1:23: server.adminToken: ") == true && lines.first?.contains("no-such-token") == true, "\(lines)")
        #expect(lines.dropFirst().first?.hasPrefix("all.yaml:2:27: limits.chipsPerTenant: expected a whole number of at least 1") == true, "\(lines)")
        #expect(lines.last == "all.yaml:8:12: environment variable 'WHAGO_TEST_SURELY_UNSET_LOGIN' is not set (set it, or write ${WHAGO_TEST_SURELY_UNSET_LOGIN:-default} to give a default)", "\(lines)")
    }

    @Test("the secrets of a configuration never appear in its errors")
    func noSecretsInErrors() async throws {
        let directory = try TemporaryDirectory("check")
        defer { directory.remove() }
        try directory.write("s.yaml", "server: {adminToken: sup3r-s3cret-t0ken, listen: bad}\nruntime: {driver: local}\nsessions: {driver: waha-plus}\nproxy: {driver: none}\nstore: {driver: postgres, postgres: {url: 'postgres://u:db-pa55@h/db', poolSize: 0}}\n")
        let result = try await whago("check-config", "s.yaml", directory: directory.path)
        #expect(result.status == 1)
        #expect(!result.stderr.contains("sup3r-s3cret-t0ken"))
        #expect(!result.stderr.contains("db-pa55"))
        #expect(result.stderr.contains("s.yaml:5:82: store.postgres.poolSize: expected a whole number of at least 1, got 0"))
    }

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
