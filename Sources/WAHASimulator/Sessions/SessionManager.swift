import CurlHTTP
import Foundation
import Logging
import WhagoCore

/// Every session of the simulator and their life cycles, as WAHA runs them:
/// start → STARTING → (paired? WORKING : SCAN_QR_CODE with up to 6 QR codes, 60 s then 20 s each)
/// → FAILED when none was scanned. Every status change is a `session.status` webhook.
actor SessionManager {
    let configuration: SimulatorConfiguration
    let webhooks: WebhookDispatcher
    private let persistence: (any SessionStorage)?
    private let client: HTTPClient
    private let logger: Logger
    var sessions: [String: SimulatedSession] = [:]
    var lifecycles: [String: Task<Void, Never>] = [:]
    /// Sessions created or taken over here since the last save (see ``SessionStorage``).
    private var fresh: Set<String> = []
    /// How many times each session was started here (`GET /_sim/starts`): tests count them across
    /// workers to see that no session runs on two at once, and that none is started needlessly.
    private(set) var starts: [String: Int] = [:]
    /// The last status webhook being emitted: each waits for the one before.
    private var emissions: Task<Void, Never>?
    /// Where this simulator is reached: QR values and the default proxy probe name it.
    private var address = (host: "127.0.0.1", port: 3000)

    init(configuration: SimulatorConfiguration, client: HTTPClient, logger: Logger) throws {
        self.configuration = configuration
        self.client = client
        self.logger = logger
        self.webhooks = WebhookDispatcher(configuration: configuration, client: client, logger: logger)
        if let url = configuration.sessionsDatabaseURL {
            self.persistence = try PostgresSessionStorage(url: url, worker: configuration.workerID ?? "default", logger: logger)
        } else {
            self.persistence = try configuration.dataDirectory.map(FileSessionStorage.init(directory:))
        }
    }

    /// Loads kept sessions and starts them as WAHA's session manager does at boot
    /// (`manager.plus.ts`, `restartSessions`): with `WHATSAPP_RESTART_ALL_SESSIONS` every session
    /// of the store — stopped ones, and with a shared database every worker's, too; else, with
    /// `WAHA_WORKER_RESTART_SESSIONS` (the default), this worker's sessions that were running.
    func start(listeningOn host: String, port: Int) async throws {
        address = (["0.0.0.0", "::"].contains(host) ? "127.0.0.1" : host, port)
        if let publicURL = configuration.publicURL, let url = URL(string: publicURL), let publicHost = url.host {
            address = (publicHost, url.port ?? port)
        }
        var kept = try await persistence?.load() ?? []
        if configuration.restartAllSessions, let persistence {
            for other in try await persistence.others() {
                if let taken = try await persistence.take(other.name) { kept.append(taken) }
            }
        }
        for var session in kept {
            session.status = .stopped
            sessions[session.name] = session
            if configuration.restartAllSessions || (configuration.restartWorkerSessions && session.running) { begin(session.name) }
        }
    }

    // MARK: Queries

    /// This worker's sessions; with `includeStopped` (`?all=true`) also those other workers keep in
    /// a shared store, as STOPPED here (WAHA's `getSessions(all)` lists the whole config store).
    func list(includeStopped: Bool) async throws(SimulatorError) -> [SimulatedSession] {
        try await forgetDeletedElsewhere()
        var found = sessions.values.filter { includeStopped || $0.status != .stopped }
        if includeStopped { found += try await offline().filter { sessions[$0.name] == nil } }
        return found.sorted { $0.name < $1.name }
    }

    func session(_ name: String) throws(SimulatorError) -> SimulatedSession {
        guard let session = sessions[name] else { throw .sessionNotFound }
        return session
    }

    /// A session of this worker, or one another worker keeps in a shared store (STOPPED here).
    func anySession(_ name: String) async throws(SimulatorError) -> SimulatedSession {
        try await forgetDeletedElsewhere()
        if let session = sessions[name] { return session }
        guard let kept = try await offline().first(where: { $0.name == name }) else { throw .sessionNotFound }
        return kept
    }

    /// The sessions other workers keep in a shared store, as this worker sees them: STOPPED.
    private func offline() async throws(SimulatorError) -> [SimulatedSession] {
        do {
            return try await (persistence?.others() ?? []).map { session in
                var session = session
                session.status = .stopped
                return session
            }
        } catch {
            throw .unavailable("the sessions database does not answer: \(error)")
        }
    }

    /// Drops the stopped sessions another worker deleted from a shared store. (WAHA keeps only
    /// running sessions in memory and reads the others from the store; a running one stays.)
    private func forgetDeletedElsewhere() async throws(SimulatorError) {
        let kept: Set<String>?
        do {
            kept = try await persistence?.kept()
        } catch {
            throw .unavailable("the sessions database does not answer: \(error)")
        }
        guard let kept else { return }
        for (name, session) in sessions where !session.running && lifecycles[name] == nil && !kept.contains(name) && !fresh.contains(name) {
            sessions.removeValue(forKey: name)
            await webhooks.forget(name)
        }
    }

    /// Takes over a session another worker keeps, to run it here.
    private func takeOver(_ name: String) async throws(SimulatorError) -> Bool {
        let taken: SimulatedSession?
        do {
            taken = try await persistence?.take(name)
        } catch {
            throw .unavailable("the sessions database does not answer: \(error)")
        }
        guard var session = taken else { return false }
        session.status = .stopped
        sessions[name] = session
        fresh.insert(name)
        return true
    }

    /// Waits up to 5 s for one of `expected`, as WAHA's endpoints that need a status do. This is a
    /// request's patience, not a life-cycle delay, so the time scale does not shorten it; a status
    /// the session cannot leave by itself (STOPPED, FAILED, or WORKING when a scan is expected)
    /// answers at once.
    func waitFor(_ name: String, _ expected: [SessionStatus]) async throws(SimulatorError) -> SimulatedSession {
        let deadline = ContinuousClock.now + .seconds(5)
        while true {
            let current = try session(name)
            if expected.contains(current.status) { return current }
            let settled = [.stopped, .failed].contains(current.status) || (current.status == .working && !expected.contains(.working))
            guard !settled, ContinuousClock.now < deadline else { throw .statusNotExpected(name, current.status, expected: expected) }
            try? await Task.sleep(for: .milliseconds(20))
        }
    }

    // MARK: WAHA's session endpoints

    func create(name: String?, start: Bool, config: JSONValue?) async throws(SimulatorError) -> SimulatedSession {
        // WAHA: `request.name || generatePrefixedId('session')`, so an empty name gets one too.
        let name = name.flatMap { $0.isEmpty ? nil : $0 } ?? "session_" + ULID.make().suffix(16)
        guard Self.isValidName(name) else {
            throw .badRequest("Session name can only contain alphanumeric characters, hyphens, and underscores (a-z, A-Z, 0-9, -, _), at most 54")
        }
        try Self.checkWebhooks(config)
        guard sessions[name] == nil, try await !offline().contains(where: { $0.name == name }) else {
            throw .unprocessable("Session '\(name)' already exists. Use PUT to update it.")
        }
        sessions[name] = SimulatedSession(name: name, config: config)
        fresh.insert(name)
        if start { begin(name) } else { save() }
        return sessions[name]!
    }

    func update(_ name: String, config: JSONValue?) async throws(SimulatorError) -> SimulatedSession {
        try Self.checkWebhooks(config)
        if sessions[name] == nil, try await !takeOver(name) { throw .sessionNotFound }
        var session = try session(name)
        session.config = config
        sessions[name] = session
        if session.running { begin(name) } else { save() }
        return sessions[name]!
    }

    /// Deletes a session — one another worker keeps in a shared store too, as WAHA's `delete`
    /// clears the config and the auth in the store whoever runs the session.
    func delete(_ name: String) async throws(SimulatorError) {
        guard sessions[name] != nil else {
            let removed: Bool
            do {
                removed = try await persistence?.remove(name) ?? false
            } catch {
                throw .unavailable("the sessions database does not answer: \(error)")
            }
            guard removed else { throw .sessionNotFound }
            return
        }
        halt(name, to: nil)
        sessions.removeValue(forKey: name)
        await webhooks.forget(name)
        save()
    }

    /// Starts a session; one another worker keeps in a shared store is taken over and run here.
    func start(_ name: String) async throws(SimulatorError) -> SimulatedSession {
        if sessions[name] == nil, try await !takeOver(name) { throw .sessionNotFound }
        let session = try session(name)
        if !session.running || session.status == .stopped || session.status == .failed { begin(name) }
        return sessions[name]!
    }

    /// WAHA refuses a session config whose webhook URL class-validator's `IsUrl` refuses (400).
    static func checkWebhooks(_ config: JSONValue?) throws(SimulatorError) {
        for (index, webhook) in (config?["webhooks"]?.arrayValue ?? []).enumerated() {
            guard let url = webhook["url"]?.stringValue, WebhookURL.isValid(url) else {
                throw .badRequest("config.webhooks.\(index).url must be a URL address")
            }
        }
    }

    /// Stops a session of this worker; one another worker keeps is not running here: as it is.
    func stop(_ name: String) async throws(SimulatorError) -> SimulatedSession {
        guard sessions[name] != nil else { return try await anySession(name) }
        halt(name, to: .stopped)
        return sessions[name]!
    }

    func restart(_ name: String) async throws(SimulatorError) -> SimulatedSession {
        if sessions[name] == nil, try await !takeOver(name) { throw .sessionNotFound }
        begin(name)
        return sessions[name]!
    }

    /// Drops the pairing; a running session goes back to the QR flow.
    func logout(_ name: String) async throws(SimulatorError) -> SimulatedSession {
        if sessions[name] == nil, try await !takeOver(name) { throw .sessionNotFound }
        let session = try session(name)
        sessions[name]?.me = nil
        if session.running { begin(name) } else { save() }
        return sessions[name]!
    }

    func requestCode(_ name: String) async throws(SimulatorError) -> String {
        _ = try await waitFor(name, [.scanQRCode])
        let letters = Array("ABCDEFGHJKLMNPQRSTUVWXYZ23456789")
        let code = String((0..<8).map { _ in letters.randomElement()! })
        return code.prefix(4) + "-" + code.suffix(4)
    }

    func sendText(_ name: String, chatID: String, text: String) async throws(SimulatorError) -> JSONValue {
        let session = try await waitFor(name, [.working])
        let now = Int64(Date().timeIntervalSince1970)
        let id = "true_\(chatID)_\(ULID.make().uppercased().suffix(20))"
        sessions[name]?.lastActivity = now * 1000
        let message: JSONValue = .object([
            "id": .string(id), "timestamp": .number(Double(now)), "from": .string(session.me?.id ?? ""), "fromMe": .bool(true),
            "source": "api", "to": .string(chatID), "participant": .string(session.me?.id ?? ""), "body": .string(text),
            "hasMedia": .bool(false), "mediaUrl": "", "ack": .number(1), "ackName": "SERVER",
        ])
        // The phone receives it a moment later: one message.ack (DEVICE) webhook.
        let delay = configuration.scaled(.seconds(1))
        Task { [weak self] in
            try? await Task.sleep(for: delay)
            await self?.acknowledge(name, id: id, to: chatID)
        }
        return message
    }

    /// `GET /api/contacts/check-exists`: in the simulator every number of 8 to 15 digits exists.
    func checkExists(_ name: String, phone: String) async throws(SimulatorError) -> JSONValue {
        _ = try await waitFor(name, [.working])
        let digits = phone.filter { $0 != "+" }
        guard (8...15).contains(digits.count), digits.allSatisfy(\.isASCII), digits.allSatisfy(\.isNumber) else {
            return .object(["numberExists": .bool(false)])
        }
        return .object(["numberExists": .bool(true), "chatId": .string("\(digits)@c.us")])
    }

    private func acknowledge(_ name: String, id: String, to chatID: String) async {
        guard let session = sessions[name], session.status == .working else { return }
        await webhooks.emit("message.ack", session: session, payload: .object([
            "id": .string(id), "from": .string(session.me?.id ?? ""), "to": .string(chatID), "participant": .string(session.me?.id ?? ""),
            "fromMe": .bool(true), "ack": .number(2), "ackName": "DEVICE",
        ]))
    }

    // MARK: Life cycle

    /// (Re)starts a session's life cycle from STARTING.
    private func begin(_ name: String) {
        starts[name, default: 0] += 1
        lifecycles[name]?.cancel()
        sessions[name]?.generation += 1
        sessions[name]?.running = true
        sessions[name]?.qr = nil
        sessions[name]?.failureReason = nil
        let generation = sessions[name]?.generation ?? 0
        transition(name, to: .starting)
        lifecycles[name] = Task { await self.runLifecycle(name, generation: generation) }
    }

    /// Stops the life cycle; `status` nil means the session is being deleted.
    func halt(_ name: String, to status: SessionStatus?, reason: String? = nil) {
        lifecycles.removeValue(forKey: name)?.cancel()
        sessions[name]?.generation += 1
        sessions[name]?.qr = nil
        if status == .stopped { sessions[name]?.running = false }
        if let status {
            sessions[name]?.failureReason = reason
            transition(name, to: status, data: reason.map { .object(["reason": .string($0)]) })
        }
    }

    private func runLifecycle(_ name: String, generation: Int) async {
        func current() -> Bool { sessions[name]?.generation == generation && !Task.isCancelled }
        do {
            try await Task.sleep(for: configuration.scaled(.seconds(1)))
            guard current(), let session = sessions[name] else { return }
            if let proxy = session.parsedConfig.proxy, let failure = await probe(through: proxy) {
                guard current() else { return }
                halt(name, to: .failed, reason: failure)
                return
            }
            guard current() else { return }
            if session.me != nil {
                transition(name, to: .working)
                return
            }
            for index in 1...6 {
                let validity = configuration.scaled(.seconds(index == 1 ? 60 : 20))
                let nonce = ULID.make()
                sessions[name]?.qr = QRState(value: "waha-sim://\(address.host):\(address.port)/\(name)/\(nonce)", nonce: nonce,
                                             expiresAt: .now + validity, index: index)
                transition(name, to: .scanQRCode)
                try await Task.sleep(for: validity)
                guard current() else { return }
            }
            halt(name, to: .failed, reason: "the QR code was not scanned (6 codes shown)")
        } catch {
            return
        }
    }

    /// Opens a real request through the session's proxy, as the engine makes it of the config
    /// (``EngineProxy``); returns why it failed, or nil.
    private func probe(through config: SessionConfigView.Proxy) async -> String? {
        let proxy: HTTPProxy
        do {
            proxy = try EngineProxy.resolve(config, engine: configuration.engine)
        } catch {
            return error.description
        }
        let target = configuration.probeURL ?? "http://127.0.0.1:\(address.port)/ping"
        let request = HTTPClientRequest(.get, target, timeout: .seconds(10), connectTimeout: .seconds(5), proxy: proxy)
        do {
            let response = try await client.execute(request)
            // An HTTP proxy that refuses (407, or 401 from some) answers in the target's place.
            guard (200..<300).contains(response.status) else {
                return "\(configuration.engine): proxy \(proxy) answered \(response.status) (refused credentials?)"
            }
            return nil
        } catch {
            return "\(configuration.engine): proxy \(proxy) failed: \(error)"
        }
    }

    /// Records a status (the last three are kept), saves, and sends `session.status`.
    func transition(_ name: String, to status: SessionStatus, data: JSONValue? = nil) {
        guard var session = sessions[name] else { return }
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        session.status = status
        session.statuses = Array((session.statuses + [StatusPoint(status: status, timestamp: now)]).suffix(3))
        sessions[name] = session
        save()
        let payload: JSONValue = .object([
            "name": .string(name), "status": .string(status.rawValue),
            "statuses": .array(session.statuses.map { .object(["status": .string($0.status.rawValue), "timestamp": .number(Double($0.timestamp))]) }),
            "data": data ?? .null,
        ])
        // After the state is kept (an engine keeps its auth before it reports WORKING: a worker
        // killed right after could not have lost the pairing), and in order.
        let webhooks = self.webhooks
        let persistence = self.persistence
        let previous = emissions
        emissions = Task {
            await previous?.value
            await persistence?.flush()
            await webhooks.emit("session.status", session: session, payload: payload)
        }
    }

    func save() {
        persistence?.save(Array(sessions.values), fresh: fresh)
        fresh = []
    }

    /// The current QR code of a session waiting for a scan.
    func currentQR(_ name: String) async throws(SimulatorError) -> QRState {
        let session = try await waitFor(name, [.scanQRCode])
        guard let qr = session.qr else { throw .statusNotExpected(name, session.status, expected: [.scanQRCode]) }
        return qr
    }

    static func isValidName(_ name: String) -> Bool {
        !name.isEmpty && name.count <= 54 && name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-") }
    }

    /// A stable made-up Brazilian mobile number for a session.
    static func phoneNumber(for name: String) -> String {
        var hash: UInt64 = 1469598103934665603
        for byte in name.utf8 { hash = (hash ^ UInt64(byte)) &* 1099511628211 }
        return "55119" + String(format: "%08llu", hash % 100_000_000)
    }
}
