public import Foundation

/// The whole configuration of a whago daemon, as decoded from YAML.
///
/// Decode it with the compiled-in ``DriverRegistry`` in `userInfo[.driverRegistry]`; every
/// section rejects unknown keys, and every driver section is decoded by its driver.
public struct WhagoConfig: Decodable, Sendable {
    public var server: ServerConfig
    public var limits: LimitsConfig
    public var orchestrator: OrchestratorConfig
    public var webhooks: WebhooksConfig
    public var runtime: DriverSelection<any ContainerRuntime>
    public var sessions: DriverSelection<any SessionProvider>
    public var proxy: DriverSelection<any ProxyProvider>
    public var store: DriverSelection<any Store>

    enum CodingKeys: String, CodingKey, CaseIterable {
        case server, limits, orchestrator, webhooks, runtime, sessions, proxy, store
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        var sections = SectionDecoder(decoder)
        let server = sections.attempt { try container.decodeIfPresent(ServerConfig.self, forKey: .server) ?? ServerConfig() }
        let limits = sections.attempt { try container.decodeIfPresent(LimitsConfig.self, forKey: .limits) ?? LimitsConfig() }
        let orchestrator = sections.attempt { try container.decodeIfPresent(OrchestratorConfig.self, forKey: .orchestrator) ?? OrchestratorConfig() }
        let webhooks = sections.attempt { try container.decodeIfPresent(WebhooksConfig.self, forKey: .webhooks) ?? WebhooksConfig() }
        let runtime = sections.attempt { try container.decode(DriverSelection<any ContainerRuntime>.self, forKey: .runtime) }
        let sessions = sections.attempt { try container.decode(DriverSelection<any SessionProvider>.self, forKey: .sessions) }
        let proxy = sections.attempt { try container.decode(DriverSelection<any ProxyProvider>.self, forKey: .proxy) }
        let store = sections.attempt { try container.decode(DriverSelection<any Store>.self, forKey: .store) }
        try sections.finish()
        guard let server, let limits, let orchestrator, let webhooks, let runtime, let sessions, let proxy, let store else {
            preconditionFailure("SectionDecoder.finish() throws when a section failed")
        }
        if let window = sessions.configuration.webhookReplayWindow, let retention = store.eventRetention, window.duration >= retention.duration {
            throw DecodingError.dataCorruptedError(forKey: .store, in: container, debugDescription:
                "store.eventRetention (\(retention)) must be longer than sessions.\(sessions.driver.name).webhookMaxSkew (\(window)): "
                + "a worker webhook replayed after its event was pruned from the log would be taken again")
        }
        (self.server, self.limits, self.orchestrator, self.webhooks) = (server, limits, orchestrator, webhooks)
        (self.runtime, self.sessions, self.proxy, self.store) = (runtime, sessions, proxy, store)
    }

    /// One line per section, secrets redacted: what `whago serve` logs at startup.
    public var redactedSummary: [(section: String, summary: String)] {
        [
            ("server", "listen=\(server.listen) publicURL=\(Redacted.redact(server.publicURL)) dataDir=\(server.dataDir) "
                + "adminToken=\(server.adminToken == nil ? "<generated>" : "<redacted>") "
                + "masterKey=\(server.masterKey == nil ? "<generated>" : "<redacted>")"
                + (server.metricsToken == nil ? "" : " metricsToken=<redacted>")),
            ("limits", Redacted.fields(of: limits)),
            ("orchestrator", Redacted.fields(of: orchestrator)),
            ("webhooks", Redacted.fields(of: webhooks)),
            ("runtime", runtime.redactedSummary),
            ("sessions", sessions.redactedSummary),
            ("proxy", proxy.redactedSummary),
            ("store", store.redactedSummary),
        ]
    }

    /// `runtime=local sessions=waha-plus proxy=none store=file`: what `whago check-config` prints.
    public var driverLine: String {
        "runtime=\(runtime.driver.name) sessions=\(sessions.driver.name) proxy=\(proxy.driver.name) store=\(store.driver.name)"
    }
}

/// `server:` — where whago listens and how workers reach it.
public struct ServerConfig: Decodable, Sendable {
    /// The address the REST API and the webhook receiver listen on.
    public var listen: HostPort
    /// The URL workers use to reach whago's webhook receiver (defaults to `http://<listen>`).
    public var publicURL: URL
    /// The token of the admin API. When absent, one is generated into `<dataDir>/admin-token`.
    public var adminToken: Secret?
    /// whago's own files: the generated admin token and, by default, the drivers' data.
    public var dataDir: String
    /// The key that seals the secrets the store keeps. When absent, one is generated into
    /// `<dataDir>/master-key`. Replicas sharing one PostgreSQL must share it: set it.
    public var masterKey: Secret?
    /// The installation's id: the `whago.instance` label of every worker. When absent, one is
    /// generated into `<dataDir>/instance-id`. Replicas sharing one store must share it: set it.
    public var instance: String?
    /// The token `/metrics` asks for (`Authorization: Bearer`); absent: /metrics is open.
    public var metricsToken: Secret?
    /// Load balancers and proxies in front of whago: a request from one of them is the client's
    /// named in `X-Forwarded-For` (the nearest address not itself a trusted proxy), so that limits
    /// per client address (failed authentications) count clients, not the proxy.
    public var trustedProxies: [NetworkRange] = []

    enum CodingKeys: String, CodingKey, CaseIterable {
        case listen, publicURL, adminToken, dataDir, masterKey, instance, metricsToken, trustedProxies
    }

    public init(listen: HostPort = HostPort(host: "127.0.0.1", port: 8080), publicURL: URL? = nil, adminToken: Secret? = nil,
                dataDir: String = ".whago", masterKey: Secret? = nil, instance: String? = nil) {
        self.listen = listen
        self.publicURL = publicURL ?? ServerConfig.defaultPublicURL(for: listen)
        self.adminToken = adminToken
        self.dataDir = dataDir
        self.masterKey = masterKey
        self.instance = instance
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let listen = try container.decodeIfPresent(HostPort.self, forKey: .listen) ?? HostPort(host: "127.0.0.1", port: 8080)
        self.init(
            listen: listen,
            publicURL: try container.decodeIfPresent(URL.self, forKey: .publicURL),
            adminToken: try container.decodeIfPresent(Secret.self, forKey: .adminToken),
            dataDir: try container.decodeIfPresent(NonEmptyString.self, forKey: .dataDir)?.value ?? ".whago",
            masterKey: try container.decodeIfPresent(Secret.self, forKey: .masterKey),
            instance: try container.decodeIfPresent(NonEmptyString.self, forKey: .instance)?.value
        )
        metricsToken = try container.decodeIfPresent(Secret.self, forKey: .metricsToken)
        trustedProxies = try container.decodeIfPresent([NetworkRange].self, forKey: .trustedProxies) ?? []
        if let adminToken, adminToken.revealed.count < Self.minimumAdminTokenLength,
           !(decoder.userInfo[.placeholderRecorder] != nil && adminToken.revealed == "placeholder") {
            throw DecodingError.dataCorruptedError(forKey: .adminToken, in: container, debugDescription:
                "the admin token is \(adminToken.revealed.count) characters; it must be at least \(Self.minimumAdminTokenLength) "
                + "(it guards every tenant: generate one with `openssl rand -hex 32`, or leave it out and whago generates one)")
        }
        if container.contains(.publicURL), let problem = Self.publicURLProblem(publicURL) {
            throw DecodingError.dataCorruptedError(forKey: .publicURL, in: container, debugDescription: problem)
        }
        if let instance, !(1...63).contains(instance.count)
            || !instance.unicodeScalars.allSatisfy({ ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" || $0 == "_" }) {
            throw DecodingError.dataCorruptedError(forKey: .instance, in: container,
                                                   debugDescription: "'\(instance)' must be 1 to 63 lower-case letters, digits, '-' and '_' (it labels workers)")
        }
    }

    /// The shortest admin token accepted: one that cannot be guessed, even by a patient attacker
    /// whose failed attempts are limited per address.
    public static let minimumAdminTokenLength = 32

    /// Why workers could not be given `url` for their webhooks, or nil. WAHA checks a webhook URL
    /// with class-validator's `IsUrl` (`protocols: [http, https], require_tld: false`): a host name
    /// of letters, digits and hyphens (an underscore, as in a Swarm stack's `stack_whago`, is
    /// refused, and every session create would fail with 400), or an IP address.
    static func publicURLProblem(_ url: URL) -> String? {
        guard let scheme = url.scheme?.lowercased(), ["http", "https"].contains(scheme) else {
            return "'\(url.absoluteString)' must be an http:// or https:// URL (workers send their webhooks to it)"
        }
        guard let host = url.host, !host.isEmpty else { return "'\(url.absoluteString)' has no host" }
        if host.contains(":") || host.split(separator: ".").count == 4 && host.split(separator: ".").allSatisfy({ UInt8($0) != nil }) { return nil }
        let labels = host.split(separator: ".", omittingEmptySubsequences: false)
        let valid = labels.allSatisfy { label in
            !label.isEmpty && label.count <= 63 && !label.hasPrefix("-") && !label.hasSuffix("-")
                && label.unicodeScalars.allSatisfy { $0.isASCII && (CharacterSet.alphanumerics.contains($0) || $0 == "-") }
        }
        guard valid else {
            let hint = host.contains("_") ? " (an underscore, as in a Swarm stack's service name: use a network alias without one)" : ""
            return "the host '\(host)' is not a host name WAHA accepts in a webhook URL: letters, digits and '-' per label\(hint)"
        }
        return nil
    }

    static func defaultPublicURL(for listen: HostPort) -> URL {
        let host = ["0.0.0.0", "::"].contains(listen.host) ? "127.0.0.1" : listen.host
        let shown = host.contains(":") ? "[\(host)]" : host
        return URL(string: "http://\(shown):\(listen.port)")!
    }
}
