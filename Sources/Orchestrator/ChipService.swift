import Foundation
import Logging
public import WhagoCore

/// The operations on chips that the REST API calls. Each fails with a ``WhagoError``; none
/// blocks on a worker for longer than the session provider's request timeout.
///
/// Creating a chip stores the intent (PROVISIONING, placed on a worker) and returns it; the
/// worker, the proxy and the session are arranged in the background (the chip becomes STARTING,
/// then SCAN_QR_CODE, with a `chip.status` event each time).
public struct ChipService: Sendable {
    let context: OrchestratorContext
    let placement: Placement
    let provisioner: Provisioner
    let transitions: ChipTransitions
    let background: BackgroundWork
    let tenantQueue: KeyedSerialQueue<TenantID>
    let pacer: SendPacer

    /// The proxy country a chip gets when it asks for none (the proxy driver's), if any.
    public var defaultCountry: String? { context.proxy.defaultCountry }

    /// How many chips `tenant` may have (its own limit, else `limits.chipsPerTenant`).
    public func chipLimit(of tenant: Tenant) -> Int { tenant.chipLimit ?? context.limits.chipsPerTenant }

    /// What a tenant asks for when creating a chip.
    public struct Request: Sendable, Hashable {
        public var name: String
        /// ISO 3166 country code of the proxy's exit IP.
        public var country: String?
        /// City of the proxy's exit IP, when the proxy provider supports it.
        public var city: String?

        public init(name: String, country: String? = nil, city: String? = nil) {
            self.name = name
            self.country = country
            self.city = city
        }
    }

    // MARK: Create, read

    /// Stores a new chip placed on one of the tenant's workers (or a new one) and starts provisioning it.
    /// `quota_exceeded` past the tenant's chip limit, `capacity_exhausted` when no worker port is
    /// free, `conflict` when the tenant has a chip of that name, `invalid_request` on bad input.
    public func create(_ request: Request, for tenant: TenantID) async throws -> Chip {
        let name = try Validation.chipName(request.name)
        let country = try request.country.map(Validation.country) ?? defaultCountry
        let city = try request.city.map(Validation.city)
        guard let tenantRecord = try await context.store.tenant(tenant) else {
            throw WhagoError(.notFound, "tenant \(tenant) does not exist")
        }
        guard background.accepting else { throw WhagoError(.unavailable, "whago is shutting down; retry on another replica or later") }
        let limit = chipLimit(of: tenantRecord)
        var tags: [String: String] = [:]
        tags[ChipMetadata.country] = country
        tags[ChipMetadata.city] = city
        let metadata = tags
        let chip = try await tenantQueue.run(tenant) {
            let count = try await context.store.chips(of: tenant).count
            guard count < limit else {
                throw WhagoError(.quotaExceeded, "tenant \(tenant) has \(count) chips, its limit (\(limit)); delete a chip or raise the tenant's chipLimit")
            }
            let now = Date()
            let chip = Chip(id: ChipID.make(prefix: "chip", at: now), tenant: tenant, name: name, status: .provisioning,
                            metadata: metadata, createdAt: now)
            return try await placement.create(chip, chipLimit: limit)
        }
        context.logger.info("chip created", metadata: ["chip": "\(chip.id)", "tenant": "\(tenant)", "worker": "\(chip.worker?.rawValue ?? "-")"])
        background.spawn { await provisioner.provision(chip.id) }
        return chip
    }

    /// The tenant's chip; `not_found` for a chip of another tenant too.
    public func get(_ id: ChipID, of tenant: TenantID) async throws -> Chip {
        guard let chip = try await context.store.chip(id), chip.tenant == tenant else {
            throw WhagoError(.notFound, "chip \(id) does not exist")
        }
        return chip
    }

    /// The tenant's chips in creation order, `limit` at most after `after`.
    public func list(of tenant: TenantID, after: ChipID? = nil, limit: Int = 100) async throws -> [Chip] {
        try await context.store.chips(of: tenant, after: after, limit: max(1, min(limit, 1000)))
    }

    /// The proxy leases of these chips (those that hold one), by chip: one read for a page.
    public func proxies(of chips: [ChipID]) async throws -> [ChipID: ProxyLease] {
        try await context.store.proxyLeases(of: chips)
    }

    /// The chip's worker, its proxy lease: what the API shows beside the chip.
    public func placement(of chip: Chip) async throws -> (worker: Worker?, proxy: ProxyLease?) {
        let worker = try await chip.worker.asyncMap { try await context.store.worker($0) } ?? nil
        return (worker, try await context.store.proxyLease(of: chip.id))
    }

    // MARK: Delete, restart, logout

    /// Deletes the chip: its session, its proxy lease, its record (with a `chip.deleted` event).
    /// Idempotent: deleting a chip that is gone succeeds. When the worker cannot be reached now
    /// the chip stays DELETING and the reconciler finishes it.
    public func delete(_ id: ChipID, of tenant: TenantID) async throws {
        // Another tenant's chip and one that does not exist (or no longer does) answer alike.
        guard let chip = try await context.store.chip(id), chip.tenant == tenant else { throw WhagoError(.notFound, "chip \(id) does not exist") }
        try await transitions.move(id, to: .deleting) { $0.status != .deleting }
        do {
            try await provisioner.finishDelete(id)
        } catch {
            context.logger.warning("chip \(id) stays DELETING until its worker answers: \(Provisioner.reason(error))", metadata: ["chip": "\(id)"])
        }
    }

    /// Restarts the chip's session (a new QR code when it is not paired); an EXPIRED or FAILED
    /// chip, or one whose session is gone, gets its session ensured again.
    public func restart(_ id: ChipID, of tenant: TenantID) async throws -> Chip {
        let chip = try await get(id, of: tenant)
        let worker = try await workerForAction(chip, "restart")
        if try await context.sessions.status(of: id, on: context.endpoint(of: worker)) == nil || chip.status == .expired {
            try await provisioner.ensureSession(chip, on: worker)
            if chip.status == .expired { try await context.sessions.restart(id, on: context.endpoint(of: worker)) }
        } else {
            try await context.sessions.restart(id, on: context.endpoint(of: worker))
        }
        let moved = try await transitions.move(id, to: .starting, reason: "restarted by the tenant", pairing: chip.phone == nil ? .restart : .keep) {
            $0.status != .deleting
        }
        return try await current(moved, id, tenant)
    }

    /// Logs the chip's WhatsApp account out and starts it again, waiting for a new QR code.
    public func logout(_ id: ChipID, of tenant: TenantID) async throws -> Chip {
        let chip = try await get(id, of: tenant)
        let worker = try await workerForAction(chip, "log out")
        try await context.sessions.logout(id, on: context.endpoint(of: worker))
        try await provisioner.ensureSession(chip, on: worker)
        let moved = try await transitions.move(id, to: .starting, phone: .some(nil), reason: "logged out by the tenant", pairing: .restart) {
            $0.status != .deleting
        }
        return try await current(moved, id, tenant)
    }

    // MARK: Pairing

    /// The current QR code (the parts asked for: a PNG answer needs only the image, `?format=raw`
    /// only the value); `invalid_state` naming the status when the chip is not waiting for a scan.
    public func qrCode(_ id: ChipID, of tenant: TenantID, parts: QRCode.Parts = [.image, .value]) async throws -> QRCode {
        let chip = try await get(id, of: tenant)
        guard chip.status == .scanQRCode || chip.status == .starting else {
            throw WhagoError(.invalidState, "chip \(id) is \(chip.status.rawValue): a QR code exists only while it is SCAN_QR_CODE")
        }
        let worker = try await workerForAction(chip, "show a QR code for")
        return try await context.sessions.qrCode(of: id, on: context.endpoint(of: worker), parts: parts)
    }

    /// A pairing code for `phoneNumber` (digits, country code first), instead of a QR code.
    public func requestPairingCode(_ id: ChipID, phoneNumber: String, of tenant: TenantID) async throws -> String {
        let phone = try Validation.phoneNumber(phoneNumber)
        let chip = try await get(id, of: tenant)
        guard chip.status == .scanQRCode || chip.status == .starting else {
            throw WhagoError(.invalidState, "chip \(id) is \(chip.status.rawValue): a pairing code can be asked for only while it is SCAN_QR_CODE")
        }
        let worker = try await workerForAction(chip, "pair")
        return try await context.sessions.requestPairingCode(for: id, phoneNumber: phone, on: context.endpoint(of: worker))
    }

    // MARK: Messages

    /// Sends a text from the chip. The message is recorded (queued) before the worker is asked;
    /// the worker's answer makes it `sent` or `failed`, and no answer (a timeout, a 5xx after the
    /// request left) makes it `unknown`: never retried blindly, the tenant decides. A request
    /// repeated with the same idempotency key returns the first message, sending nothing; the same
    /// key with another chat or text is `idempotency_conflict`.
    /// Paced by `limits.sending` (a ``PacingError`` says how long to wait); an idempotency key
    /// seen before returns the first message without pacing.
    public func sendText(_ text: OutgoingText, from id: ChipID, of tenant: TenantID, idempotencyKey: String? = nil) async throws -> OutgoingMessage {
        let chatID = try Validation.chatID(text.chatID)
        let body = try Validation.messageText(text.text)
        let key = try idempotencyKey.map(Validation.idempotencyKey)
        let chip = try await get(id, of: tenant)
        if let key, let existing = try await context.store.message(of: id, idempotencyKey: key) {
            return try Self.repeated(existing, chatID: chatID, text: body, key: key)
        }
        guard chip.status == .working else {
            throw WhagoError(.invalidState, "chip \(id) is \(chip.status.rawValue): messages can be sent only while it is WORKING")
        }
        let worker = try await workerForAction(chip, "send from")
        // Paced once the message is known to go out; a booking whose message is not recorded is given back.
        try await pacer.reserve(chip)
        var message = OutgoingMessage(id: MessageID.make(prefix: "msg"), chip: id, tenant: tenant, idempotencyKey: key, chatID: chatID, text: body)
        do {
            try await context.store.apply(StoreBatch([.recordMessage(message)]))
        } catch let error as WhagoError where error.code == .conflict {
            pacer.release(id)
            if let key, let existing = try await context.store.message(of: id, idempotencyKey: key) {
                return try Self.repeated(existing, chatID: chatID, text: body, key: key)
            }
            throw error
        } catch {
            pacer.release(id)
            throw error
        }
        do {
            let sent = try await context.sessions.sendText(OutgoingText(chatID: chatID, text: body), from: id, on: context.endpoint(of: worker))
            message.status = .sent
            message.providerMessageID = sent.messageID.map { WorkerText.clean($0, limit: 256) }
            message.sentAt = Date()
        } catch let error as WhagoError where error.code == .unavailable || error.code == .timedOut {
            message.status = .unknown
            message.error = error.description
        } catch {
            message.status = .failed
            message.error = Provisioner.reason(error)
        }
        try await context.store.apply(StoreBatch([.updateMessage(message)]))
        message.version += 1
        return message
    }

    /// The message a request repeated with its idempotency key gets back: the first one, when the
    /// request is the same (its chat and text).
    static func repeated(_ existing: OutgoingMessage, chatID: String, text: String, key: String) throws -> OutgoingMessage {
        guard existing.chatID == chatID, existing.text == text else {
            throw WhagoError(.idempotencyConflict, "the Idempotency-Key '\(key)' was used for \(existing.id) with another chatId or text; "
                + "use a new key for a new message")
        }
        return existing
    }

    // MARK: Pass-through

    /// Sends a tenant's request to the session software's own API for the chip (the provider
    /// confines it to the chip's session) and returns the worker's answer as it is. A request that
    /// sends a message is paced like ``sendText(_:from:of:idempotencyKey:)`` and needs a WORKING chip.
    ///
    /// The answer comes back without whago's secrets (``SecretScrubber``): WAHA echoes the session's
    /// configuration — the proxy's credentials, the worker's webhook HMAC key — and with that key a
    /// tenant could forge its worker's webhooks.
    public func passThrough(_ request: PassThroughRequest, to id: ChipID, of tenant: TenantID) async throws -> PassThroughResponse {
        let chip = try await get(id, of: tenant)
        let worker = try await workerForAction(chip, "reach")
        guard try context.sessions.sendsMessage(request, for: id) else {
            return try await scrubbed(try await context.sessions.forward(request, for: id, on: context.endpoint(of: worker)), of: chip, on: worker)
        }
        guard chip.status == .working else {
            throw WhagoError(.invalidState, "chip \(id) is \(chip.status.rawValue): messages can be sent only while it is WORKING")
        }
        try await pacer.reserve(chip)
        do {
            return try await scrubbed(try await context.sessions.forward(request, for: id, on: context.endpoint(of: worker)), of: chip, on: worker)
        } catch let error as WhagoError where error.code == .invalidRequest {
            // Refused before it left: the booking is given back.
            pacer.release(id)
            throw error
        }
    }

    /// The answer without the secrets whago gave the chip's session: the worker's API key and
    /// webhook key, the proxy's username and password.
    private func scrubbed(_ answer: PassThroughResponse, of chip: Chip, on worker: Worker) async throws -> PassThroughResponse {
        var secrets = [worker.apiKey.revealed, worker.webhookSecret.revealed]
        if let lease = try await context.store.proxyLease(of: chip.id), let endpoint = context.proxy.endpoint(for: lease) {
            secrets += [endpoint.username, endpoint.password?.revealed].compactMap { $0 }
        }
        var answer = answer
        answer.body = SecretScrubber(secrets: secrets).scrub(answer.body, contentType: answer.contentType)
        return answer
    }

    // MARK: Helpers

    private func workerForAction(_ chip: Chip, _ action: String) async throws -> Worker {
        switch chip.status {
        case .provisioning: throw WhagoError(.invalidState, "chip \(chip.id) is PROVISIONING: whago is still arranging its worker; retry in a moment")
        case .deleting: throw WhagoError(.invalidState, "chip \(chip.id) is DELETING")
        default: break
        }
        guard let workerID = chip.worker, let worker = try await context.store.worker(workerID) else {
            throw WhagoError(.invalidState, "chip \(chip.id) has no worker right now; whago is placing it again, retry in a moment")
        }
        return worker
    }

    private func current(_ outcome: ChipTransitions.Outcome, _ id: ChipID, _ tenant: TenantID) async throws -> Chip {
        switch outcome {
        case .applied(let chip), .unchanged(let chip), .duplicate(let chip): return chip
        case .missing: throw WhagoError(.notFound, "chip \(id) does not exist")
        }
    }
}

extension Optional {
    func asyncMap<T>(_ transform: (Wrapped) async throws -> T) async rethrows -> T? {
        switch self {
        case .some(let value): try await transform(value)
        case .none: nil
        }
    }
}
