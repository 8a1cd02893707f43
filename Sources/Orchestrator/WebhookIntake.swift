import Crypto
public import Foundation
import Logging
import WhagoCore

/// The one entry point for webhook bodies that workers send (`POST /hooks/waha/{worker}`): the API
/// hands the bytes and headers over and answers with what this returns.
///
/// A worker is untrusted. Its body is verified with that worker's own secret (by the session
/// provider, in constant time, with its timestamp checked) before anything is read, and an event
/// is applied only to a chip placed on that worker: a compromised worker cannot move another
/// tenant's chip (such events are dropped, logged and counted). A status change is stored with
/// its tenant event in one batch whose event id is derived from the worker and the signed event
/// id, so a repeated delivery finds its event already in the log and changes nothing.
public struct WebhookIntake: Sendable {
    let context: OrchestratorContext
    let transitions: ChipTransitions

    /// How far a worker's clock may be behind whago's before its status reports count as old.
    static let clockTolerance: TimeInterval = 2

    /// The largest body accepted.
    public static let maximumBodySize = 1 << 20

    /// What became of one delivery.
    public struct Receipt: Sendable, Hashable {
        /// Events stored (status changes and their tenant events, messages, acks).
        public var applied = 0
        /// Events already applied by an earlier delivery.
        public var duplicates = 0
        /// Events for chips not placed on the signing worker, or for unknown chips.
        public var dropped = 0
    }

    /// A webhook whose signature was verified: its events, bound to the worker that signed them.
    public struct VerifiedDelivery: Sendable {
        let worker: Worker
        let events: [ChipEvent]
        /// The size of the body it came in.
        public let bytes: Int
        /// The worker that signed it.
        public var workerID: String { worker.id.rawValue }
        /// How many events it carries.
        public var count: Int { events.count }
        /// The chip of its first event (WAHA sends one event per webhook): what orders deliveries.
        public var chip: String { events.first?.chip.rawValue ?? worker.id.rawValue }
    }

    /// Verifies and applies a worker's webhook. `unauthorized` for an unknown worker or a bad
    /// signature (answer 401), `protocol_error` for a body that cannot be read (answer 400).
    public func receive(worker workerID: String, body: [UInt8], headers: [String: String], now: Date = Date()) async throws -> Receipt {
        try await apply(verify(worker: workerID, body: body, headers: headers, now: now))
    }

    /// The first half of ``receive(worker:body:headers:now:)``: the body checked against the
    /// worker's secret and decoded. Nothing is stored; the API answers once this returned and
    /// leaves ``apply(_:)`` to the background.
    public func verify(worker workerID: String, body: [UInt8], headers: [String: String], now: Date = Date()) async throws -> VerifiedDelivery {
        guard body.count <= Self.maximumBodySize else {
            throw WhagoError(.invalidRequest, "a webhook body is at most \(Self.maximumBodySize) bytes")
        }
        guard workerID.utf8.count <= 128, let worker = try await context.store.worker(WorkerID(workerID)) else {
            throw WhagoError(.unauthorized, "no worker \(WorkerText.clean(workerID, limit: 64)) signs webhooks here")
        }
        let events = try context.sessions.decodeWebhook(body: body, headers: headers, secret: worker.webhookSecret, now: now)
        return VerifiedDelivery(worker: worker, events: Array(events.prefix(100)), bytes: body.count)
    }

    /// The second half: each event applied to its chip when that chip is placed on the signing worker.
    public func apply(_ delivery: VerifiedDelivery) async throws -> Receipt {
        var receipt = Receipt()
        for event in delivery.events {
            switch try await apply(event, from: delivery.worker) {
            case .applied: receipt.applied += 1
            case .duplicate: receipt.duplicates += 1
            case .dropped: receipt.dropped += 1
            }
        }
        context.counters.increment(.webhookEventsApplied, by: receipt.applied)
        context.counters.increment(.webhookEventsDuplicate, by: receipt.duplicates)
        return receipt
    }

    enum Outcome { case applied, duplicate, dropped }

    private func apply(_ event: ChipEvent, from worker: Worker) async throws -> Outcome {
        guard let chip = try await context.store.chip(event.chip), chip.worker == worker.id else {
            context.counters.increment(.webhookEventsForeign)
            context.logger.warning("dropped a webhook event for a chip not placed on the worker that signed it",
                                   metadata: ["worker": "\(worker.id)", "chip": "\(WorkerText.clean(event.chip.rawValue, limit: 64))",
                                              "event": "\(event.kind)"])
            return .dropped
        }
        let id = Self.eventID(worker: worker.id, signed: event.id)
        let outcome: ChipTransitions.Outcome
        if event.kind == .statusChanged, let status = event.status {
            let phone = event.payload["me"]?["id"]?.stringValue.map { WorkerText.clean($0, limit: 64) }
            let pushName = event.payload["me"]?["pushName"]?.stringValue
            outcome = try await transitions.change(chip.id) { current in
                guard Provisioner.accepts(current.status) else { return nil }
                // A delivery delayed past a newer status (read by a poll meanwhile) is history, not news.
                guard event.occurredAt.addingTimeInterval(Self.clockTolerance) >= current.statusChangedAt else { return nil }
                var next = current
                next.status = status
                if status == .working {
                    next.phone = phone ?? current.phone
                    if let pushName { next.setPushName(pushName) }
                    next.markPaired(at: event.occurredAt, previousPhone: current.phone)
                }
                if next.status != current.status { next.statusChangedAt = event.occurredAt }
                let tenantEvent = ChipTransitions.statusEvent(next, previous: current.status, reason: nil, id: id, at: event.occurredAt)
                // Same status again (a repeat, or a poll got there first): nothing to tell the tenant.
                guard next != current else { return nil }
                return ChipTransitions.Change(chip: next, events: [tenantEvent])
            }
        } else {
            let tenantEvent = ChipEvent(id: id, chip: chip.id, kind: event.kind, payload: try await messagePayload(event, of: chip.id),
                                        occurredAt: event.occurredAt, providerMessageID: event.providerMessageID)
            do {
                try await context.store.apply(.enqueue([OutboxEntry(event: tenantEvent, tenant: chip.tenant)]))
                return .applied
            } catch let error as WhagoError where error.code == .conflict {
                return .duplicate
            }
        }
        switch outcome {
        case .applied: return .applied
        case .duplicate, .unchanged: return .duplicate
        case .missing: return .dropped
        }
    }

    /// A message event's data as the tenant gets it: the worker's payload, with the message's ids
    /// beside it — `providerMessageId` (the worker's, as its send answered) and, for a message whago
    /// sent, `messageId` (whago's `msg_…`, as `POST …/messages` answered), so an ack can be matched.
    private func messagePayload(_ event: ChipEvent, of chip: ChipID) async throws -> JSONValue {
        let payload = StoredPayload.trim(event.payload)
        guard let provided = event.providerMessageID, case .object(var members) = payload else { return payload }
        members["providerMessageId"] = .string(provided)
        if let message = try await context.store.message(of: chip, providerMessageID: provided) {
            members["messageId"] = .string(message.id.rawValue)
        }
        return .object(members)
    }

    /// The tenant event's id: bound to the worker that signed it, of bounded length.
    static func eventID(worker: WorkerID, signed: EventID) -> EventID {
        let digest = SHA256.hash(data: Array("\(worker.rawValue)\u{0}\(signed.rawValue)".utf8))
        return EventID("evt_w" + Hex.encode(digest).prefix(32))
    }
}
