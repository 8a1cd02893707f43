import Foundation
import Testing
import WhagoCore
import WhagoTesting
import YAMLConfig

/// Decodes a whole configuration against the test registry (drivers `alpha` and `beta`, alias `b`).
private func load(_ yaml: String) throws(YAMLErrors) -> WhagoConfig {
    let node = try YAMLParser(source: "w.yaml", environment: [:]).parseSingleDocument(yaml)
        ?? YAMLNode(.mapping([]), mark: YAMLMark(source: "w.yaml", line: 1, column: 1))
    return try YAMLDecoder(userInfo: [.driverRegistry: TestDrivers.registry]).decode(WhagoConfig.self, from: node)
}

private func failures(_ yaml: String) -> [String] {
    do {
        _ = try load(yaml)
        Issue.record("expected errors")
        return []
    } catch {
        return error.errors.map(\.description)
    }
}

private let minimal = """
    runtime: {driver: alpha}
    sessions: {driver: alpha}
    proxy: {driver: alpha}
    store: {driver: alpha}
    """

@Suite("Selecting drivers from the registry", .timeLimit(.minutes(3)))
struct RegistrySelectionTests {
    @Test("driver: selects the driver and its section is decoded by the driver's configuration type")
    func selection() throws {
        let config = try load("""
            runtime:
              driver: beta
              beta: {size: 4, label: big}
              alpha: {size: 1}
            sessions: {driver: b, b: {size: 2}}
            proxy: {driver: alpha}
            store: {driver: alpha, alpha: {token: t0p}}
            """)
        #expect(config.runtime.driver.name == "beta")
        #expect((config.runtime.configuration as? RecordingConfiguration)?.size == 4)
        #expect((config.runtime.configuration as? RecordingConfiguration)?.label == "big")
        #expect(config.sessions.driver.name == "beta")
        #expect((config.sessions.configuration as? RecordingConfiguration)?.size == 2)
        #expect((config.proxy.configuration as? RecordingConfiguration)?.size == 1)
        #expect(config.driverLine == "runtime=beta sessions=beta proxy=alpha store=alpha")
    }

    @Test("server and limits have defaults: chipsPerTenant is 10 as in the original system")
    func defaults() throws {
        let config = try load(minimal)
        #expect(config.limits.chipsPerTenant == 10)
        #expect(config.limits.apiRequestsPerSecond == 20)
        #expect(config.server.listen.description == "127.0.0.1:8080")
        #expect(config.server.publicURL.absoluteString == "http://127.0.0.1:8080")
        #expect(config.server.adminToken == nil)
        #expect(config.server.dataDir == ".whago")
    }

    @Test("publicURL follows listen unless given")
    func publicURL() throws {
        #expect(try load(minimal + "\nserver: {listen: 0.0.0.0:9000}").server.publicURL.absoluteString == "http://127.0.0.1:9000")
        #expect(try load(minimal + "\nserver: {publicURL: 'http://whago:1/'}").server.publicURL.absoluteString == "http://whago:1/")
    }

    @Test("an unknown driver lists the compiled-in drivers of that kind")
    func unknownDriver() {
        #expect(failures(minimal.replacingOccurrences(of: "proxy: {driver: alpha}", with: "proxy: {driver: gamma}")) == [
            "w.yaml:3:17: proxy.driver: unknown proxy driver 'gamma' (compiled-in proxy drivers: alpha, beta)",
        ])
    }

    @Test("the selected driver's section is strict; other drivers' sections are not validated")
    func strictness() {
        #expect(failures(minimal.replacingOccurrences(of: "store: {driver: alpha}", with: "store: {driver: alpha, alpha: {sise: 3}, beta: {anything: 1}}")) == [
            "w.yaml:4:32: unknown key 'sise' in store.alpha (expected one of: size, label, token)",
        ])
        #expect(failures(minimal.replacingOccurrences(of: "store: {driver: alpha}", with: "store: {driver: alpha, alpah: {}}")) == [
            "w.yaml:4:24: unknown key 'alpah' in store (expected one of: driver, alpha, beta, b, eventRetention)",
        ])
        #expect(failures(minimal.replacingOccurrences(of: "store: {driver: alpha}", with: "store: {driver: alpha, alpha: {size: 0}}")) == [
            "w.yaml:4:38: store.alpha.size: expected a whole number of at least 1, got 0",
        ])
    }

    @Test("a missing section or driver key is an error, and every broken section is reported")
    func missing() {
        #expect(failures("runtime: {driver: alpha}\nsessions: {}\nproxy: {driver: alpha}") == [
            "w.yaml:1:1: missing key 'store' at the top level",
            "w.yaml:2:11: missing key 'driver' in sessions",
        ])
        #expect(failures(minimal + "\nlimits: {chipsPerTenant: 0, apiRequestsPerSecond: x}\nserver: {listen: nope}").count == 2)
    }

    @Test("the redacted summary shows settings but never a secret")
    func redaction() throws {
        let config = try load(minimal.replacingOccurrences(of: "store: {driver: alpha}", with: "store: {driver: alpha, alpha: {token: hunter2, label: x}}")
            + "\nserver: {adminToken: adm1n-s3cret-0123456789abcdef0123456789, publicURL: 'http://u:pw-in-url@h:1'}")
        let lines = config.redactedSummary.map { "\($0.section): \($0.summary)" }.joined(separator: "\n")
        #expect(lines.contains("store: alpha size=1 label=x token=<redacted>"))
        #expect(lines.contains("adminToken=<redacted>"))
        #expect(!lines.contains("hunter2"))
        #expect(!lines.contains("adm1n-s3cret"))
        #expect(!lines.contains("pw-in-url"))
    }

    @Test("the registry lists every driver of a kind with its aliases and sample")
    func entries() {
        let entries = TestDrivers.registry.entries(of: .store)
        #expect(entries.map(\.name) == ["alpha", "beta"])
        #expect(entries[1].aliases == ["b"])
        #expect(entries[0].sampleConfig == "alpha: {size: 1}")
    }
}
