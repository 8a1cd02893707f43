import Foundation
import WhagoCore

/// Every change of a chip's status is stored together with its tenant event, in one batch, one
/// at a time per chip (so events keep the chip's order). A batch refused because the chip changed
/// meanwhile is re-read and re-decided, never written over.
struct ChipTransitions: Sendable {
    let context: OrchestratorContext
    let queue: KeyedSerialQueue<ChipID>

    /// What a change does: the chip as it must be stored, and the events that go with it.
    struct Change: Sendable {
        var chip: Chip
        var events: [ChipEvent]
    }

    /// Outcomes of ``change(_:fence:_:)``.
    enum Outcome: Sendable {
        /// Stored; the chip as it is now.
        case applied(Chip)
        /// Nothing to do (`decide` returned nil); the chip as read.
        case unchanged(Chip)
        /// The chip does not exist.
        case missing
        /// An event with the same id is already in the log: this change was applied before.
        case duplicate(Chip)
    }

    /// Reads the chip, asks `decide` what to store, and stores it; retried on a stale version.
    @discardableResult
    func change(_ id: ChipID, fence: Fence? = nil, _ decide: @escaping @Sendable (Chip) throws -> Change?) async throws -> Outcome {
        let store = context.store
        return try await queue.run(id) {
            for _ in 0..<16 {
                guard let chip = try await store.chip(id) else { return .missing }
                guard let change = try decide(chip) else { return .unchanged(chip) }
                let entries = change.events.map { OutboxEntry(event: $0, tenant: chip.tenant) }
                var operations: [StoreOperation] = [.updateChip(change.chip)]
                if !entries.isEmpty { operations.append(.enqueue(entries)) }
                do {
                    try await store.apply(StoreBatch(operations, fence: fence))
                    var stored = change.chip
                    stored.version = chip.version + 1
                    return .applied(stored)
                } catch let error as WhagoError where error.code == .conflict {
                    // Stale: read again and decide again. Unchanged: the events' ids are in the log.
                    guard let again = try await store.chip(id) else { return .missing }
                    if again.version == chip.version {
                        if fence != nil, let fence, try await !stillLeads(fence) { throw error }
                        return .duplicate(again)
                    }
                }
            }
            throw WhagoError(.conflict, "chip \(id) kept changing while whago updated it; retry")
        }
    }

    /// Whether a fence is still current (a fenced batch refused with an unchanged chip may be a lost leadership).
    private func stillLeads(_ fence: Fence) async throws -> Bool {
        // A no-op fenced batch: refused exactly when the fence is stale.
        do {
            try await context.store.apply(StoreBatch([], fence: fence))
            return true
        } catch let error as WhagoError where error.code == .conflict {
            return false
        }
    }

    /// Moves the chip to `status` (when `allowed` says so), with a `chip.status` event.
    @discardableResult
    func move(_ id: ChipID, to status: ChipStatus, phone: String?? = nil, pushName: String? = nil, reason: String? = nil, fence: Fence? = nil,
              expectedVersion: Int? = nil, eventID: EventID? = nil, at time: Date = Date(),
              pairing: PairingClock = .keep, when allowed: @escaping @Sendable (Chip) -> Bool = { _ in true }) async throws -> Outcome {
        try await change(id, fence: fence) { chip in
            if let expectedVersion, chip.version != expectedVersion { return nil }
            guard allowed(chip) else { return nil }
            var next = chip
            if let phone { next.phone = phone }
            if let pushName { next.setPushName(pushName) }
            switch pairing {
            case .keep: break
            case .restart: next.pairingSince = time
            }
            if status == .working { next.markPaired(at: time, previousPhone: chip.phone) }
            guard next.status != status || next.phone != chip.phone || next.pairingSince != chip.pairingSince
                || next.pairedAt != chip.pairedAt || next.metadata != chip.metadata else { return nil }
            let previous = chip.status
            next.status = status
            if previous != status { next.statusChangedAt = time }
            let event = ChipTransitions.statusEvent(next, previous: previous, reason: reason, id: eventID, at: time)
            return Change(chip: next, events: previous != status || eventID != nil ? [event] : [])
        }
    }

    /// How a move treats the QR budget's clock.
    enum PairingClock: Sendable {
        case keep
        /// The tenant asked for a new pairing (restart, logout): the budget starts again.
        case restart
    }

    /// The `chip.status` event of a chip that is now `chip.status`.
    static func statusEvent(_ chip: Chip, previous: ChipStatus?, reason: String?, id: EventID? = nil, at time: Date) -> ChipEvent {
        var payload: [String: JSONValue] = ["status": .string(chip.status.rawValue)]
        if let previous { payload["previous"] = .string(previous.rawValue) }
        if let phone = chip.phone { payload["phone"] = .string(phone) }
        if let reason { payload["reason"] = .string(reason) }
        return ChipEvent(id: id ?? EventID.make(prefix: "evt", at: time), chip: chip.id, kind: .statusChanged, status: chip.status,
                         payload: .object(payload), occurredAt: time)
    }
}
