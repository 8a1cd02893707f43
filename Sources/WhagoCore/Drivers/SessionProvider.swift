public import Foundation

/// Talks to the session software inside workers (WAHA): what to launch, and one session per chip.
///
/// # Implementation requirements
/// - ``workerTemplate(_:)`` is a pure function of its context: the same context gives the same
///   template, so a worker re-created after a crash is identical to the one it replaces.
/// - ``ensureSession(_:on:proxy:webhook:)`` is **idempotent**: it creates the chip's session, or
///   updates it when it exists with a different configuration, and never creates a duplicate.
///   Sessions live in the worker's volume and **survive a restart of the worker or of whago**.
/// - ``stop(_:on:)``, ``logout(_:on:)`` and ``delete(_:on:)`` succeed on a session that is already in
///   the requested state or gone.
/// - ``decodeWebhook(body:headers:secret:now:)`` verifies the signature in constant time and
///   rejects stale timestamps before it decodes anything; malformed input is an error, never a crash.
/// - Errors are ``WhagoError``s: `unauthorized` (the worker refused whago's key, or a bad webhook
///   signature), `not_found` (no such session), `invalid_state` (e.g. a QR code asked for while the
///   session is not waiting for a scan; the message names the current status), `unavailable`
///   (worker unreachable or 5xx; retry), `protocol_error` (an answer whago cannot read).
public protocol SessionProvider: WhagoDriver {
    /// How many chips (sessions) one worker hosts at most.
    var sessionsPerWorker: Int { get }
    /// The image, environment, port, volume and health path of a new worker.
    func workerTemplate(_ context: WorkerContext) -> WorkerTemplate
    /// Probes a worker's API (WAHA: `/ping`, `/health`).
    /// - Parameter version: also read the software's version (and warnings about it); a caller
    ///   that knows it already probes with fewer calls.
    func health(of worker: WorkerEndpoint, version: Bool) async throws -> WorkerHealth
    /// The proxy protocols the session software can use, most preferred first: proxy leases are
    /// asked for one of them. A proxy of another is refused by ``ensureSession(_:on:proxy:webhook:)``
    /// (`invalid_config`) before any worker is asked.
    var proxySchemes: [ProxyEndpoint.Scheme] { get }
    /// Creates or updates the chip's session with its proxy and webhook, and starts it.
    func ensureSession(_ chip: ChipSpec, on worker: WorkerEndpoint, proxy: ProxyEndpoint?, webhook: WebhookTarget) async throws
    /// The chips of every session on the worker, running or not (WAHA: `GET /api/sessions?all=true`).
    func sessions(on worker: WorkerEndpoint) async throws -> [ChipID]
    /// The session's status as the worker reports it; `nil` when the session does not exist.
    func status(of chip: ChipID, on worker: WorkerEndpoint) async throws -> SessionStatus?
    /// The current QR code to pair the chip: its image, its raw value, or both (a part not asked
    /// for is left empty, and not fetched).
    func qrCode(of chip: ChipID, on worker: WorkerEndpoint, parts: QRCode.Parts) async throws -> QRCode
    /// Asks for a pairing code for `phoneNumber` (digits, country code first) instead of a QR code.
    func requestPairingCode(for chip: ChipID, phoneNumber: String, on worker: WorkerEndpoint) async throws -> String
    /// Stops and starts the chip's session again, keeping its pairing.
    func restart(_ chip: ChipID, on worker: WorkerEndpoint) async throws
    /// Stops the chip's session, keeping it and its pairing on the worker.
    func stop(_ chip: ChipID, on worker: WorkerEndpoint) async throws
    /// Unpairs the phone: the session asks for a new QR code.
    func logout(_ chip: ChipID, on worker: WorkerEndpoint) async throws
    /// Removes the chip's session from the worker, its pairing with it. Idempotent.
    func delete(_ chip: ChipID, on worker: WorkerEndpoint) async throws
    /// Sends a text message from the chip.
    func sendText(_ message: OutgoingText, from chip: ChipID, on worker: WorkerEndpoint) async throws -> SentMessage
    /// Verifies and decodes a webhook the worker sent to whago's receiver.
    func decodeWebhook(body: [UInt8], headers: [String: String], secret: Secret, now: Date) throws -> [ChipEvent]
    /// Sends a tenant's request to the session software's own API on the chip's worker, with
    /// whago's key, the session forced to the chip's wherever the request names one (path, query,
    /// body); what would reach beyond the chip's session (the worker's other sessions, its server
    /// or keys, the session's life cycle that whago drives) is refused with `invalid_request`.
    /// The worker's answer comes back as it is, whatever its status; only a transport failure is
    /// an error (`unavailable`). Providers without such an API keep the default (`not_implemented`).
    func forward(_ request: PassThroughRequest, for chip: ChipID, on worker: WorkerEndpoint) async throws -> PassThroughResponse
    /// Whether a pass-through request for the chip sends a message (whago paces it like its own
    /// sends), checked before anything is paced or sent: `invalid_request` when ``forward(_:for:on:)``
    /// would refuse it.
    func sendsMessage(_ request: PassThroughRequest, for chip: ChipID) throws -> Bool
}

/// What the session provider needs to know to describe a new worker.
public struct WorkerContext: Sendable, Hashable {
    public var worker: WorkerID
    public var tenant: TenantID
    /// The leased host port.
    public var hostPort: Int
    /// The worker's API key (the provider decides how the worker receives it).
    public var apiKey: Secret
    /// The URL the worker's webhooks must be sent to.
    public var webhookURL: URL

    public init(worker: WorkerID, tenant: TenantID, hostPort: Int, apiKey: Secret, webhookURL: URL) {
        self.worker = worker
        self.tenant = tenant
        self.hostPort = hostPort
        self.apiKey = apiKey
        self.webhookURL = webhookURL
    }
}

/// How to run a worker, before the runtime adds names, labels and ports.
public struct WorkerTemplate: Sendable, Hashable {
    public var image: String
    public var command: [String]?
    public var environment: [String: String]
    /// The port the session software listens on inside the worker.
    public var internalPort: Int
    /// Where the sessions' data lives inside the worker (a volume is mounted there).
    public var dataPath: String
    /// The HTTP path a runtime may use as a health probe.
    public var healthPath: String

    public init(image: String, command: [String]? = nil, environment: [String: String], internalPort: Int, dataPath: String, healthPath: String) {
        self.image = image
        self.command = command
        self.environment = environment
        self.internalPort = internalPort
        self.dataPath = dataPath
        self.healthPath = healthPath
    }
}

/// How whago reaches one worker's API.
public struct WorkerEndpoint: Sendable, Hashable {
    public var worker: WorkerID
    /// e.g. `http://127.0.0.1:3100`.
    public var baseURL: URL
    public var apiKey: Secret

    public init(worker: WorkerID, baseURL: URL, apiKey: Secret) {
        self.worker = worker
        self.baseURL = baseURL
        self.apiKey = apiKey
    }

    /// Where a worker's API is reached: its node's address when it has one (a swarm), else its
    /// host, on its leased port, with its key.
    public init(_ worker: Worker) {
        let address = worker.address ?? worker.host
        let host = address.contains(":") ? "[\(address)]" : address
        self.init(worker: worker.id, baseURL: URL(string: "http://\(host):\(worker.port)")!, apiKey: worker.apiKey)
    }
}

/// What a worker's health probe found.
public struct WorkerHealth: Sendable, Hashable {
    public var reachable: Bool
    /// e.g. `WAHA 2026.6.1 GOWS`.
    public var version: String?
    public var detail: String?

    public init(reachable: Bool, version: String? = nil, detail: String? = nil) {
        self.reachable = reachable
        self.version = version
        self.detail = detail
    }
}

/// The chip a session is ensured for.
public struct ChipSpec: Sendable, Hashable {
    public var chip: ChipID
    public var tenant: TenantID

    public init(chip: ChipID, tenant: TenantID) {
        self.chip = chip
        self.tenant = tenant
    }
}

/// Where and how a worker must deliver its webhooks.
public struct WebhookTarget: Sendable, Hashable {
    public var url: URL
    /// The HMAC key the worker signs with.
    public var secret: Secret

    public init(url: URL, secret: Secret) {
        self.url = url
        self.secret = secret
    }
}

/// A session's status as reported by its worker.
public struct SessionStatus: Sendable, Hashable {
    public var status: ChipStatus
    /// The paired account's WhatsApp id, when WORKING.
    public var phone: String?
    /// The paired account's WhatsApp profile name, when WORKING and known.
    public var pushName: String?

    public init(status: ChipStatus, phone: String? = nil, pushName: String? = nil) {
        self.status = status
        self.phone = phone
        self.pushName = pushName
    }
}

extension SessionProvider {
    /// Any protocol, unless the provider says otherwise.
    public var proxySchemes: [ProxyEndpoint.Scheme] { ProxyEndpoint.Scheme.allCases }

    /// Probes a worker's API and reads its version.
    public func health(of worker: WorkerEndpoint) async throws -> WorkerHealth {
        try await health(of: worker, version: true)
    }

    /// The current QR code, image and value.
    public func qrCode(of chip: ChipID, on worker: WorkerEndpoint) async throws -> QRCode {
        try await qrCode(of: chip, on: worker, parts: [.image, .value])
    }

    /// No pass-through: `not_implemented`.
    public func forward(_ request: PassThroughRequest, for chip: ChipID, on worker: WorkerEndpoint) async throws -> PassThroughResponse {
        throw WhagoError(.notImplemented, "this session provider has no API to pass requests through to")
    }

    /// No pass-through, so nothing it sends.
    public func sendsMessage(_ request: PassThroughRequest, for chip: ChipID) throws -> Bool { false }
}

/// A QR code to pair a chip: the PNG image and the raw string it encodes.
public struct QRCode: Sendable, Hashable {
    /// Which parts of a QR code to fetch.
    public struct Parts: OptionSet, Sendable, Hashable {
        public let rawValue: Int
        public init(rawValue: Int) { self.rawValue = rawValue }
        /// The PNG image.
        public static let image = Parts(rawValue: 1)
        /// The raw string it encodes.
        public static let value = Parts(rawValue: 2)
    }

    public var png: [UInt8]
    public var value: String?

    public init(png: [UInt8], value: String? = nil) {
        self.png = png
        self.value = value
    }

    /// The PNG as base64, for JSON answers (`{"mimetype": "image/png", "data": …}`).
    public var base64: String { Data(png).base64EncodedString() }
}

/// A text message to send.
public struct OutgoingText: Sendable, Hashable {
    /// The recipient's WhatsApp id, e.g. `5511999999999@c.us`.
    public var chatID: String
    public var text: String

    public init(chatID: String, text: String) {
        self.chatID = chatID
        self.text = text
    }
}

/// What the worker answered to a send.
public struct SentMessage: Sendable, Hashable {
    /// The message id, when the engine reports one.
    public var messageID: String?

    public init(messageID: String?) { self.messageID = messageID }
}
