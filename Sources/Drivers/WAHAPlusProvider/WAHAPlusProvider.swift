public import WhagoCore
public import CurlHTTP
import Crypto
public import Foundation

/// The `waha-plus` session provider: WAHA's HTTP API (WAHA ≥ 2026.6.1 includes every former Plus
/// feature: several sessions per worker, proxies, pairing codes). One WAHA session per chip, named
/// after the chip.
public struct WAHAPlusProvider: SessionProvider {
    /// The registration entry (`waha` is accepted as an alias).
    public static let driver = Driver<any SessionProvider>(
        kind: .sessions, name: "waha-plus", aliases: ["waha"],
        summary: "WAHA's HTTP API: one WAHA session per chip, several per worker",
        sampleConfig: WAHAPlusConfiguration.sample,
        configuration: WAHAPlusConfiguration.self
    ) { configuration, _ in
        WAHAPlusProvider(configuration: configuration)
    } proxySchemes: { configuration in
        ProxySchemes(configuration.engine.proxySchemes, setting: "engine", reason: configuration.engine.proxyReason)
    }

    /// What the configured engine can use (``WAHAPlusConfiguration/Engine/proxySchemes``).
    public var proxySchemes: [ProxyEndpoint.Scheme] { configuration.engine.proxySchemes }

    /// The port WAHA listens on inside its container.
    static let internalPort = 3000

    let configuration: WAHAPlusConfiguration
    let client: WAHAClient

    init(configuration: WAHAPlusConfiguration, http: HTTPClient = .shared) {
        self.configuration = configuration
        self.client = WAHAClient(http: http, timeout: configuration.requestTimeout.duration)
    }

    /// A provider with `runtime.waha-plus`'s defaults, for tests and embedding.
    /// - Parameters:
    ///   - webhookMaxSkew: the oldest (or most future) signed webhook timestamp accepted.
    public init(engine: String = "GOWS", image: String = "devlikeapro/waha:gows", requestTimeout: Duration = .seconds(30),
                webhookMaxSkew: Duration = .seconds(7200), sessionsPerWorker: Int = 10,
                environment: [String: String] = [:], sessionsDatabaseURL: Secret? = nil, mediaURLs: MediaURLPolicy = MediaURLPolicy(),
                http: HTTPClient = .shared) {
        var configuration = WAHAPlusConfiguration()
        configuration.environment = environment.filter { !WAHAPlusConfiguration.reservedEnvironment.contains($0.key) }
        configuration.sessionsPerWorker = max(1, sessionsPerWorker)
        configuration.engine = WAHAPlusConfiguration.Engine(rawValue: engine) ?? .gows
        configuration.image = image
        configuration.requestTimeout = TimeSpan(requestTimeout)
        configuration.webhookMaxSkew = TimeSpan(webhookMaxSkew)
        configuration.sessionsDatabaseURL = sessionsDatabaseURL
        configuration.mediaURLs = mediaURLs
        self.init(configuration: configuration, http: http)
    }

    /// Reports the settings; workers' own health (and their WAHA version) is checked per worker
    /// by ``health(of:)``, as they start.
    public func healthCheck() async -> HealthReport {
        let tag = configuration.image.split(separator: "/").last?.split(separator: ":").dropFirst().first
        let pinned = tag.map { $0.contains(where: \.isNumber) } ?? false
        return .ok("image \(configuration.image)\(pinned ? "" : " (unpinned: pin a version tag in production)"), "
                   + "engine \(configuration.engine.rawValue), \(configuration.sessionsPerWorker) sessions per worker")
    }

    // MARK: Workers

    public func workerTemplate(_ context: WorkerContext) -> WorkerTemplate {
        WorkerTemplate(
            image: configuration.image,
            environment: configuration.environment.merging([
                "WHATSAPP_DEFAULT_ENGINE": configuration.engine.rawValue,
                // WAHA keeps only the hash; the key itself is whago's alone.
                "WAHA_API_KEY": "sha512:" + Hex.encode(SHA512.hash(data: Array(context.apiKey.revealed.utf8))),
                "WAHA_API_KEY_EXCLUDE_PATH": "ping,health",
                "WHATSAPP_API_KEY_EXCLUDE_PATH": "ping,health",
                "WAHA_PRINT_QR": "False",
                // Not every session of the store (with a shared database: every worker's, stopped
                // ones too); a worker restarts its own running ones (WAHA_WORKER_RESTART_SESSIONS).
                "WHATSAPP_RESTART_ALL_SESSIONS": "False",
                "WAHA_WORKER_RESTART_SESSIONS": "True",
                "WAHA_WORKER_ID": context.worker.rawValue,
            ].merging(configuration.sessionsDatabaseURL.map { ["WHATSAPP_SESSIONS_POSTGRESQL_URL": $0.revealed] } ?? [:]) { $1 }) { _, whagos in whagos },
            internalPort: Self.internalPort,
            dataPath: "/app/.sessions",
            healthPath: "/ping"
        )
    }

    public func health(of worker: WorkerEndpoint, version readVersion: Bool) async throws -> WorkerHealth {
        let ping: WAHAClient.Reply
        do {
            ping = try await client.send(.get, "/ping", on: worker, authenticated: false)
        } catch let error as WhagoError {
            return WorkerHealth(reachable: false, detail: error.message)
        }
        guard ping.status == 200 else { return WorkerHealth(reachable: false, detail: "/ping answered \(ping.status)") }
        var details: [String] = []
        let health = try await client.send(.get, "/health", on: worker, authenticated: false)
        if health.status != 200 {
            details.append("/health answered \(health.status)" + (health.json?["status"]?.stringValue.map { " (\(WorkerText.clean($0, limit: 64)))" } ?? ""))
        }
        guard readVersion else {
            return WorkerHealth(reachable: health.status == 200, detail: details.isEmpty ? nil : details.joined(separator: "; "))
        }
        let reply = try await client.send(.get, "/api/server/version", on: worker)
        guard reply.status == 200, let version = reply.json else {
            throw WAHAClient.failure(reply, "reading the server version", worker: worker)
        }
        let server = ServerVersion(version)
        if let warning = server.multiSessionWarning { details.append(warning) }
        return WorkerHealth(reachable: health.status == 200, version: server.description, detail: details.isEmpty ? nil : details.joined(separator: "; "))
    }

    // MARK: Sessions

    public func ensureSession(_ chip: ChipSpec, on worker: WorkerEndpoint, proxy: ProxyEndpoint?, webhook: WebhookTarget) async throws {
        let name = chip.chip.rawValue
        let config = try SessionConfig.make(chip, proxy: proxy, webhook: webhook, configuration)
        let wanted = config["metadata"]?[SessionConfig.fingerprintKey]?.stringValue
        // Most sessions ensured are new: create first (one call), and look only when it exists.
        let first = try await client.send(.post, "/api/sessions", on: worker, json: WAHARequests.createSession(name: name, config: config))
        if (200...299).contains(first.status) { return }
        guard first.status == 422, first.message.localizedCaseInsensitiveContains("exist") else {
            throw WAHAClient.failure(first, "creating the session of chip \(name)", worker: worker)
        }
        for _ in 0..<3 {
            let current = try await client.send(.get, "/api/sessions/\(Self.escaped(name))", on: worker)
            switch current.status {
            case 404:
                let created = try await client.send(.post, "/api/sessions", on: worker,
                                                    json: WAHARequests.createSession(name: name, config: config))
                if (200...299).contains(created.status) { return }
                // Created meanwhile by someone else: look again (and update it if needed).
                if created.status == 422, created.message.localizedCaseInsensitiveContains("exist") { continue }
                throw WAHAClient.failure(created, "creating the session of chip \(name)", worker: worker)
            case 200:
                guard let info = current.json else { throw WhagoError(.protocolError, "worker \(worker.worker) sent an unreadable session \(name)") }
                var status = info["status"]?.stringValue
                if SessionConfig.fingerprint(inSession: info) != wanted {
                    // PUT stops a running session, replaces its config and starts it again.
                    let updated = try await client.send(.put, "/api/sessions/\(Self.escaped(name))", on: worker, json: WAHARequests.updateSession(config: config))
                    guard (200...299).contains(updated.status) else {
                        throw WAHAClient.failure(updated, "updating the session of chip \(name)", worker: worker)
                    }
                    status = updated.json?["status"]?.stringValue ?? status
                }
                if status == "STOPPED" {
                    let started = try await client.send(.post, "/api/sessions/\(Self.escaped(name))/start", on: worker)
                    guard (200...299).contains(started.status) else {
                        throw WAHAClient.failure(started, "starting the session of chip \(name)", worker: worker)
                    }
                }
                return
            default:
                throw WAHAClient.failure(current, "looking up the session of chip \(name)", worker: worker)
            }
        }
        throw WhagoError(.conflict, "the session of chip \(name) kept changing while whago ensured it; retry")
    }

    public var sessionsPerWorker: Int { configuration.sessionsPerWorker }

    public func sessions(on worker: WorkerEndpoint) async throws -> [ChipID] {
        let reply = try await client.send(.get, "/api/sessions?all=true", on: worker)
        guard reply.status == 200 else { throw WAHAClient.failure(reply, "listing the sessions", worker: worker) }
        guard let sessions = reply.json?.arrayValue else {
            throw WhagoError(.protocolError, "worker \(worker.worker) sent a session list that is not an array")
        }
        // A worker is untrusted: names are bounded, and a worker cannot list more than it could host.
        return sessions.prefix(10_000).compactMap { $0["name"]?.stringValue }.filter { !$0.isEmpty && $0.utf8.count <= 128 }.map { ChipID($0) }
    }

    public func status(of chip: ChipID, on worker: WorkerEndpoint) async throws -> SessionStatus? {
        let reply = try await client.send(.get, "/api/sessions/\(Self.escaped(chip.rawValue))", on: worker)
        switch reply.status {
        case 200:
            guard let info = reply.json, let text = info["status"]?.stringValue else {
                throw WhagoError(.protocolError, "worker \(worker.worker) sent a session of chip \(chip) without a status")
            }
            return SessionStatus(status: Self.chipStatus(text), phone: info["me"]?["id"]?.stringValue,
                                 pushName: info["me"]?["pushName"]?.stringValue)
        case 404:
            return nil
        default:
            throw WAHAClient.failure(reply, "reading the status of chip \(chip)", worker: worker)
        }
    }

    /// WAHA's status as a chip status; the passkey steps (GOWS) wait for the user like a QR code.
    static func chipStatus(_ text: String) -> ChipStatus {
        switch text {
        case "PASSKEY_REQUIRED", "PASSKEY_CONFIRMATION_REQUIRED": .scanQRCode
        default: ChipStatus(rawValue: text).flatMap { $0.isWAHAStatus ? $0 : nil } ?? .failed
        }
    }

    public func qrCode(of chip: ChipID, on worker: WorkerEndpoint, parts: QRCode.Parts) async throws -> QRCode {
        let base = "/api/\(Self.escaped(chip.rawValue))/auth/qr"
        guard parts.contains(.image) else {
            let raw = try await client.send(.get, base + "?format=raw", on: worker)
            guard raw.status == 200 else { throw qrFailure(raw, chip, worker) }
            guard let value = raw.json?["value"]?.stringValue else {
                throw WhagoError(.protocolError, "worker \(worker.worker) sent a QR code value whago cannot read")
            }
            return QRCode(png: [], value: WorkerText.clean(value, limit: 4096))
        }
        let image = try await client.send(.get, base + "?format=image", on: worker, accept: "image/png")
        guard image.status == 200 else { throw qrFailure(image, chip, worker) }
        let png: [UInt8]
        if image.contentType?.contains("json") == true {
            // The base64 form ({"mimetype": "image/png", "data": "…"}) some versions send.
            guard let data = image.json?["data"]?.stringValue, let bytes = Data(base64Encoded: data) else {
                throw WhagoError(.protocolError, "worker \(worker.worker) sent a QR code whago cannot read")
            }
            png = Array(bytes)
        } else {
            png = image.body
        }
        guard png.starts(with: [0x89, 0x50, 0x4E, 0x47]) else {
            throw WhagoError(.protocolError, "worker \(worker.worker) sent a QR code that is not a PNG image")
        }
        guard parts.contains(.value) else { return QRCode(png: png) }
        let raw = try await client.send(.get, base + "?format=raw", on: worker)
        return QRCode(png: png, value: raw.status == 200 ? raw.json?["value"]?.stringValue.map { WorkerText.clean($0, limit: 4096) } : nil)
    }

    private func qrFailure(_ reply: WAHAClient.Reply, _ chip: ChipID, _ worker: WorkerEndpoint) -> WhagoError {
        guard reply.status == 422 else { return WAHAClient.failure(reply, "reading the QR code of chip \(chip)", worker: worker) }
        let status = reply.json?["status"]?.stringValue.map { WorkerText.clean($0, limit: 32) } ?? "unknown"
        return WhagoError(.invalidState, "chip \(chip) is not waiting for a scan (its session is \(status))")
    }

    public func requestPairingCode(for chip: ChipID, phoneNumber: String, on worker: WorkerEndpoint) async throws -> String {
        let digits = phoneNumber.filter { $0 != "+" && $0 != " " && $0 != "-" }
        guard (8...15).contains(digits.count), digits.allSatisfy(\.isASCIIDigit) else {
            throw WhagoError(.invalidConfig, "phone number '\(phoneNumber)' must be 8 to 15 digits, country code first (e.g. 5511999999999)")
        }
        let reply = try await client.send(.post, "/api/\(Self.escaped(chip.rawValue))/auth/request-code", on: worker,
                                          json: WAHARequests.requestCode(phoneNumber: digits))
        guard (200...299).contains(reply.status) else {
            if reply.status == 422 { throw qrFailure(reply, chip, worker) }
            throw WAHAClient.failure(reply, "requesting a pairing code for chip \(chip)", worker: worker)
        }
        guard let code = reply.json?["code"]?.stringValue else {
            throw WhagoError(.protocolError, "worker \(worker.worker) answered a pairing code request without a code")
        }
        return code
    }

    public func restart(_ chip: ChipID, on worker: WorkerEndpoint) async throws {
        try await sessionAction("restart", chip, worker, goneIsFine: false)
    }

    public func stop(_ chip: ChipID, on worker: WorkerEndpoint) async throws {
        try await sessionAction("stop", chip, worker, goneIsFine: true)
    }

    public func logout(_ chip: ChipID, on worker: WorkerEndpoint) async throws {
        try await sessionAction("logout", chip, worker, goneIsFine: true)
    }

    private func sessionAction(_ action: String, _ chip: ChipID, _ worker: WorkerEndpoint, goneIsFine: Bool) async throws {
        let reply = try await client.send(.post, "/api/sessions/\(Self.escaped(chip.rawValue))/\(action)", on: worker)
        if (200...299).contains(reply.status) || (goneIsFine && reply.status == 404) { return }
        throw WAHAClient.failure(reply, "\(action == "stop" ? "stopping" : action == "logout" ? "logging out" : "restarting") the session of chip \(chip)",
                                 worker: worker)
    }

    public func delete(_ chip: ChipID, on worker: WorkerEndpoint) async throws {
        let reply = try await client.send(.delete, "/api/sessions/\(Self.escaped(chip.rawValue))", on: worker)
        guard (200...299).contains(reply.status) || reply.status == 404 else {
            throw WAHAClient.failure(reply, "deleting the session of chip \(chip)", worker: worker)
        }
    }

    public func sendText(_ message: OutgoingText, from chip: ChipID, on worker: WorkerEndpoint) async throws -> SentMessage {
        let preview = await FetchedURLs(policy: configuration.mediaURLs).previewAllowed(message.text)
        let reply = try await client.send(.post, "/api/sendText", on: worker,
                                          json: WAHARequests.sendText(session: chip.rawValue, message, linkPreview: preview))
        guard (200...299).contains(reply.status) else {
            if reply.status == 422 {
                let status = reply.json?["status"]?.stringValue.map { WorkerText.clean($0, limit: 32) } ?? "unknown"
                throw WhagoError(.invalidState, "chip \(chip) cannot send: its session is \(status), not WORKING")
            }
            throw WAHAClient.failure(reply, "sending a message from chip \(chip)", worker: worker)
        }
        return SentMessage(messageID: reply.json.flatMap(Self.messageID))
    }

    /// The message id in whatever shape the engine answered: WAHA's `WAMessage` (`id`), WEBJS
    /// (`id._serialized`), NOWEB (`key.id`); `nil` for an empty body.
    static func messageID(_ body: JSONValue) -> String? {
        body["id"]?.stringValue ?? body["id"]?["_serialized"]?.stringValue ?? body["key"]?["id"]?.stringValue
            ?? body["id"]?["id"]?.stringValue
    }

    // MARK: Webhooks

    public func decodeWebhook(body: [UInt8], headers: [String: String], secret: Secret, now: Date) throws -> [ChipEvent] {
        try WebhookDecoder(maxSkew: configuration.webhookMaxSkew.duration).decode(body: body, headers: headers, secret: secret, now: now)
    }

    // MARK: Helpers

    /// A session name as a path segment: everything outside RFC 3986's unreserved set encoded.
    static func escaped(_ name: String) -> String {
        name.addingPercentEncoding(withAllowedCharacters: unreserved) ?? name
    }

    private static let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
}

extension Character {
    fileprivate var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}
