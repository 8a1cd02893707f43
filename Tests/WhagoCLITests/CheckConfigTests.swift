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
}
