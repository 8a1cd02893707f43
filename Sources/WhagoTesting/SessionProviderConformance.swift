import Foundation
import Testing
public import WhagoCore

/// The behaviour every ``SessionProvider`` must have, run by every session provider's tests
/// against a real worker of its own kind (for `waha-plus`: `whago waha-sim`, the simulator).
///
/// ```swift
/// @Test(arguments: SessionProviderConformance.Check.allCases)
/// func conformance(_ check: SessionProviderConformance.Check) async throws { try await suite.run(check) }
/// ```
public struct SessionProviderConformance: Sendable {
    /// A running worker of the provider's kind.
    public struct Worker: Sendable {
        public var endpoint: WorkerEndpoint
        /// Stops and removes the worker.
        public var stop: @Sendable () async -> Void

        public init(endpoint: WorkerEndpoint, stop: @escaping @Sendable () async -> Void) {
            self.endpoint = endpoint
            self.stop = stop
        }
    }

    /// A real proxy on 127.0.0.1 that the worker can reach, owned by the test.
    public struct Proxy: Sendable {
        /// Where it is and its credentials.
        public var endpoint: ProxyEndpoint
        /// Stops it: a proxy that has gone away.
        public var stop: @Sendable () async -> Void

        public init(endpoint: ProxyEndpoint, stop: @escaping @Sendable () async -> Void) {
            self.endpoint = endpoint
            self.stop = stop
        }
    }

    let provider: any SessionProvider
    let launch: @Sendable () async throws -> Worker
    let pair: @Sendable (_ qrValue: String) async throws -> Void
    let proxy: @Sendable (_ scheme: ProxyEndpoint.Scheme) async throws -> Proxy?

    /// - provider: the driver under test.
    /// - launch: starts a fresh worker from `provider.workerTemplate(_:)` and returns once it
    ///   answers (one per check).
    /// - pair: what a phone does with a QR code's raw value (the simulator: its virtual phone).
    /// - proxy: starts a real proxy of a protocol (nil where the test has none of it); the
    ///   `proxies` check needs one of the protocols the provider says it takes.
    public init(provider: any SessionProvider, launch: @escaping @Sendable () async throws -> Worker,
                pair: @escaping @Sendable (_ qrValue: String) async throws -> Void,
                proxy: @escaping @Sendable (_ scheme: ProxyEndpoint.Scheme) async throws -> Proxy? = { _ in nil }) {
        self.provider = provider
        self.launch = launch
        self.pair = pair
        self.proxy = proxy
    }

    /// The checks, by name: a provider's tests run them as one parameterized test.
    public enum Check: String, CaseIterable, Sendable {
        case idempotentEnsure, qrCodeAndPairing, goneSessions, webhookSignatures, proxies
    }

    /// Runs one check on a fresh worker.
    public func run(_ check: Check) async throws {
        let worker = try await launch()
        let receiver = LoopbackPeer()
        try await receiver.start()
        do {
            switch check {
            case .idempotentEnsure: try await idempotentEnsure(worker.endpoint, receiver)
            case .qrCodeAndPairing: try await qrCodeAndPairing(worker.endpoint, receiver)
            case .goneSessions: try await goneSessions(worker.endpoint)
            case .webhookSignatures: try await webhookSignatures(worker.endpoint, receiver)
            case .proxies: try await proxies(worker.endpoint, receiver)
            }
        } catch {
            await receiver.stop()
            await worker.stop()
            throw error
        }
        await receiver.stop()
        await worker.stop()
    }

    private static let chip = ChipSpec(chip: "chip_conformance", tenant: "t1")

    // MARK: Checks

    /// `ensureSession` creates the session once: called again (same configuration) it neither
    /// duplicates nor fails, and the worker lists the chip once; the session waits for its scan.
    func idempotentEnsure(_ worker: WorkerEndpoint, _ receiver: LoopbackPeer) async throws {
        let chip = Self.chip
        #expect(try await provider.status(of: chip.chip, on: worker) == nil, "no session before ensureSession")
        let webhook = WebhookTarget(url: await receiver.hookURL, secret: Secret("conformance-secret-1"))
        try await provider.ensureSession(chip, on: worker, proxy: nil, webhook: webhook)
        try await provider.ensureSession(chip, on: worker, proxy: nil, webhook: webhook)
        try await waitForStatus(chip.chip, on: worker, .scanQRCode)
        try await provider.ensureSession(chip, on: worker, proxy: nil, webhook: webhook)
        #expect(try await provider.sessions(on: worker) == [chip.chip], "one session, listed once")
        // A changed configuration (a rotated webhook secret) updates the same session.
        try await provider.ensureSession(chip, on: worker, proxy: nil, webhook: WebhookTarget(url: await receiver.hookURL, secret: Secret("conformance-secret-2")))
        #expect(try await provider.sessions(on: worker) == [chip.chip])
        try await waitForStatus(chip.chip, on: worker, .scanQRCode)
        let health = try await provider.health(of: worker, version: true)
        #expect(health.reachable, "\(health)")
    }

    /// The QR code (PNG and raw value, or either alone), a pairing code, pairing by the QR code,
    /// then WORKING with the paired account, and a QR code asked for while WORKING is
    /// `invalid_state` naming the status.
    func qrCodeAndPairing(_ worker: WorkerEndpoint, _ receiver: LoopbackPeer) async throws {
        let chip = Self.chip
        try await provider.ensureSession(chip, on: worker, proxy: nil, webhook: WebhookTarget(url: await receiver.hookURL, secret: Secret("conformance-secret")))
        try await waitForStatus(chip.chip, on: worker, .scanQRCode)
        let qr = try await provider.qrCode(of: chip.chip, on: worker, parts: [.image, .value])
        #expect(qr.png.starts(with: [0x89, 0x50, 0x4E, 0x47]), "a PNG")
        let value = try #require(qr.value, "the raw value")
        #expect(!value.isEmpty)
        let image = try await provider.qrCode(of: chip.chip, on: worker, parts: .image)
        #expect(image.value == nil && image.png.starts(with: [0x89, 0x50, 0x4E, 0x47]), "the image alone")
        let raw = try await provider.qrCode(of: chip.chip, on: worker, parts: .value)
        #expect(raw.png.isEmpty && raw.value?.isEmpty == false, "the value alone")
        let code = try await provider.requestPairingCode(for: chip.chip, phoneNumber: "5511999999999", on: worker)
        #expect(!code.isEmpty, "a pairing code")

        try await pair(value)
        let working = try await waitForStatus(chip.chip, on: worker, .working)
        #expect(working?.phone?.isEmpty == false, "the paired account's id")
        await #expect { try await provider.qrCode(of: chip.chip, on: worker, parts: [.image, .value]) } throws: { error in
            let error = error as? WhagoError
            return error?.code == .invalidState && error?.message.contains("WORKING") == true
        }
        let sent = try await provider.sendText(OutgoingText(chatID: "5511988887777@c.us", text: "conformance"), from: chip.chip, on: worker)
        #expect(sent.messageID?.isEmpty == false)
        // Logged out, it waits for a new scan.
        try await provider.logout(chip.chip, on: worker)
        try await waitForStatus(chip.chip, on: worker, .scanQRCode)
    }

    /// Stop, logout and delete succeed on a session that is gone or was never there; delete
    /// twice succeeds; restarting a gone session is `not_found`.
    func goneSessions(_ worker: WorkerEndpoint) async throws {
        let ghost: ChipID = "chip_never_created"
        try await provider.stop(ghost, on: worker)
        try await provider.logout(ghost, on: worker)
        try await provider.delete(ghost, on: worker)
        #expect(try await provider.status(of: ghost, on: worker) == nil)
        await #expect { try await provider.restart(ghost, on: worker) } throws: { ($0 as? WhagoError)?.code == .notFound }

        let chip = Self.chip
        let nobody = try RefusingPort()
        try await provider.ensureSession(chip, on: worker, proxy: nil,
                                         webhook: WebhookTarget(url: URL(string: "\(nobody.url)/hook")!, secret: Secret("conformance-secret")))
        try await provider.stop(chip.chip, on: worker)
        try await provider.stop(chip.chip, on: worker)
        #expect(try await provider.status(of: chip.chip, on: worker)?.status == .stopped)
        try await provider.delete(chip.chip, on: worker)
        try await provider.delete(chip.chip, on: worker)
        #expect(try await provider.status(of: chip.chip, on: worker) == nil)
        #expect(try await provider.sessions(on: worker).isEmpty)
        try await provider.logout(chip.chip, on: worker)
    }

    /// A webhook the worker really sent decodes into events of the chip; a changed body, another
    /// secret, a stale timestamp, missing headers and random bytes are `unauthorized` (or, for
    /// bytes that pass, a ``WhagoError``) — never a crash, never events.
    func webhookSignatures(_ worker: WorkerEndpoint, _ receiver: LoopbackPeer) async throws {
        let chip = Self.chip
        let secret = Secret("conformance-secret-\(UUID().uuidString)")
        try await provider.ensureSession(chip, on: worker, proxy: nil, webhook: WebhookTarget(url: await receiver.hookURL, secret: secret))
        let provider = self.provider
        let delivery = try await receiver.firstWebhook("a status webhook of the chip") { delivery in
            let events = (try? provider.decodeWebhook(body: delivery.body, headers: delivery.headers, secret: secret, now: Date())) ?? []
            return events.contains { $0.chip == chip.chip && $0.kind == .statusChanged }
        }
        let events = try provider.decodeWebhook(body: delivery.body, headers: delivery.headers, secret: secret, now: Date())
        #expect(events.allSatisfy { $0.chip == chip.chip })
        #expect(Set(events.map(\.id)).count == events.count, "each event its own id")

        func refusal(_ body: [UInt8], _ headers: [String: String], secret: Secret = secret, now: Date = Date()) -> WhagoError.Code? {
            do {
                let decoded = try provider.decodeWebhook(body: body, headers: headers, secret: secret, now: now)
                Issue.record("accepted a webhook it should refuse: \(decoded.count) events")
                return nil
            } catch {
                return (error as? WhagoError)?.code
            }
        }
        var tampered = delivery.body
        tampered[tampered.count / 2] ^= 0x01
        #expect(refusal(tampered, delivery.headers) == .unauthorized, "a changed body")
        #expect(refusal(delivery.body, delivery.headers, secret: Secret("another-secret")) == .unauthorized, "another secret")
        // A day: longer than any retry schedule a provider should accept.
        #expect(refusal(delivery.body, delivery.headers, now: Date().addingTimeInterval(86_400)) == .unauthorized, "a stale timestamp")
        #expect(refusal(delivery.body, delivery.headers, now: Date().addingTimeInterval(-86_400)) == .unauthorized, "a timestamp from the future")
        #expect(refusal(delivery.body, [:]) == .unauthorized, "no signature headers")
        var generator = TestRandom("the session provider conformance's random webhook bodies")
        for _ in 0..<100 {
            let bytes = (0..<Int.random(in: 0...256, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            #expect(refusal(bytes, delivery.headers) != nil, "random bytes")
        }
    }

    /// A session goes through a proxy of each protocol the provider says it takes
    /// (``SessionProvider/proxySchemes``) and waits for its scan; once that proxy has gone away,
    /// a restart leaves the session FAILED, not connected around it. A proxy of any other protocol
    /// is `invalid_config` from `ensureSession`, and the worker is never asked: no session.
    func proxies(_ worker: WorkerEndpoint, _ receiver: LoopbackPeer) async throws {
        let webhook = WebhookTarget(url: await receiver.hookURL, secret: Secret("conformance-secret"))
        var served = 0
        for (index, scheme) in provider.proxySchemes.enumerated() {
            guard let proxy = try await proxy(scheme) else { continue }
            served += 1
            let chip = ChipSpec(chip: ChipID(rawValue: "chip_proxied_\(index)"), tenant: "t1")
            do {
                try await provider.ensureSession(chip, on: worker, proxy: proxy.endpoint, webhook: webhook)
                try await waitForStatus(chip.chip, on: worker, .scanQRCode)
                await proxy.stop()
                try await provider.restart(chip.chip, on: worker)
                try await waitForStatus(chip.chip, on: worker, .failed)
            } catch {
                await proxy.stop()
                throw error
            }
        }
        #expect(served > 0, "no proxy of \(provider.proxySchemes.map(\.rawValue)) to check with")
        let refused = ChipSpec(chip: "chip_refused_proxy", tenant: "t1")
        for scheme in ProxyEndpoint.Scheme.allCases where !provider.proxySchemes.contains(scheme) {
            let endpoint = ProxyEndpoint(scheme: scheme, host: "127.0.0.1", port: 9, username: "u", password: Secret("p"))
            await #expect("a \(scheme.rawValue) proxy") {
                try await provider.ensureSession(refused, on: worker, proxy: endpoint, webhook: webhook)
            } throws: { ($0 as? WhagoError)?.code == .invalidConfig }
        }
        #expect(try await !provider.sessions(on: worker).contains(refused.chip), "the worker was not asked")
    }

    @discardableResult
    private func waitForStatus(_ chip: ChipID, on worker: WorkerEndpoint, _ status: ChipStatus) async throws -> SessionStatus? {
        try await WhagoTesting.waitForStatus(provider, chip, on: worker, status, timeout: .seconds(60))
    }
}

/// Polls the session's status until it is `status`; records an issue and returns the last one
/// seen when it never is.
@discardableResult
public func waitForStatus(_ provider: any SessionProvider, _ chip: ChipID, on worker: WorkerEndpoint, _ status: ChipStatus,
                          timeout: Duration = .seconds(30)) async throws -> SessionStatus? {
    let deadline = ContinuousClock.now + timeout
    var last: SessionStatus?
    while ContinuousClock.now < deadline {
        last = try await provider.status(of: chip, on: worker)
        if last?.status == status { return last }
        try await Task.sleep(for: .milliseconds(20))
    }
    Issue.record("chip \(chip) stayed \(String(describing: last?.status)), never \(status)")
    return last
}
