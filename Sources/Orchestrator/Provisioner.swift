import Foundation
import Logging
import WhagoCore

/// Drives chips through their multi-step operations. Every step is idempotent and reads the
/// stored intent first, so the same call finishes an operation that a crash interrupted.
struct Provisioner: Sendable {
    let context: OrchestratorContext
    let launcher: WorkerLauncher
    let transitions: ChipTransitions
    let placement: Placement
    /// Provisionings and deletions in flight, one per chip.
    let operations = KeyedSerialQueue<ChipID>()
    /// Failed provisioning attempts per chip (this process's memory: a restart starts again).
    let attempts = AttemptCounter()

    /// PROVISIONING → STARTING (or further): place (when the chip lost its worker), bring the worker
    /// up, lease a proxy, ensure the session. A failure leaves the chip FAILED with the reason, except an
    /// interruption (shutdown), which leaves it PROVISIONING for the reconciler.
    func provision(_ id: ChipID, fence: Fence? = nil) async {
        // One provisioning of a chip at a time (a new chip's own step and a reconcile may meet):
        // the second finds the chip provisioned and does nothing.
        _ = try? await operations.run(id) { await provisionNow(id, fence: fence) }
    }

    private func provisionNow(_ id: ChipID, fence: Fence?) async {
        do {
            guard var chip = try await context.store.chip(id), chip.status == .provisioning else { return }
            if chip.worker == nil {
                chip = try await placement.place(chip)
            }
            guard let workerID = chip.worker else { return }
            let worker = try await launcher.ensureRunning(workerID)
            try await ensureSession(chip, on: worker)
            // Out of PROVISIONING, straight to where the session is (it may be waiting for its scan
            // already); its webhooks carry it on from there.
            let reported = try? await context.sessions.status(of: id, on: context.endpoint(of: worker))
            let status = reported.map(\.status).flatMap { $0 == .stopped ? nil : $0 } ?? .starting
            let phone: String?? = status == .working ? .some(reported?.phone) : .none
            try await transitions.move(id, to: status, phone: phone, pushName: status == .working ? reported?.pushName : nil, fence: fence) {
                $0.status == .provisioning
            }
        } catch is CancellationError {
            return
        } catch {
            if Task.isCancelled { return }
            let reason = Self.reason(error)
            let attempt = await attempts.record(id)
            if Self.isTransient(error), attempt < Self.provisioningAttempts {
                // Left PROVISIONING: the next reconcile tries again.
                context.logger.warning("chip \(id) not provisioned yet (attempt \(attempt) of \(Self.provisioningAttempts)): \(reason)",
                                       metadata: ["chip": "\(id)"])
                return
            }
            context.logger.warning("chip \(id) could not be provisioned: \(reason)", metadata: ["chip": "\(id)"])
            _ = try? await transitions.move(id, to: .failed, reason: reason, fence: fence) { $0.status == .provisioning }
            await attempts.forget(id)
        }
    }

    /// How many times a chip's provisioning may fail on a transient error before it is FAILED.
    static let provisioningAttempts = 5

    /// Errors that may go away by themselves: a worker or the store not answering, a race.
    static func isTransient(_ error: any Error) -> Bool {
        guard let error = error as? WhagoError else { return false }
        return [.unavailable, .timedOut, .conflict].contains(error.code)
    }

    /// The chip's proxy lease (leased when it has none) and session, idempotently.
    func ensureSession(_ chip: Chip, on worker: Worker) async throws {
        let hints = context.hints(of: chip)
        var lease = try await context.proxy.lease(for: chip.id, hints: hints, leases: context.proxyLeases)
        if let scheme = lease.endpoint?.scheme, !hints.accepts(scheme) {
            // Leased when the session software took another protocol (a changed engine): a new one.
            context.logger.notice("the proxy lease of chip \(chip.id) is \(scheme.rawValue), which the session software cannot use; leasing another",
                                  metadata: ["chip": "\(chip.id)"])
            try await context.proxy.release(lease, leases: context.proxyLeases)
            lease = try await context.proxy.lease(for: chip.id, hints: hints, leases: context.proxyLeases)
        }
        try await context.sessions.ensureSession(ChipSpec(chip: chip.id, tenant: chip.tenant), on: context.endpoint(of: worker),
                                                 proxy: context.proxy.endpoint(for: lease), webhook: context.webhook(of: worker))
    }

    /// Stores a status the worker reported, when the chip is still as it was read.
    func apply(_ status: SessionStatus, to chip: Chip, fence: Fence?) async throws {
        guard Self.accepts(chip.status) else { return }
        let phone: String?? = status.status == .working ? .some(status.phone ?? chip.phone) : .none
        try await transitions.move(chip.id, to: status.status, phone: phone, pushName: status.status == .working ? status.pushName : nil,
                                   fence: fence, expectedVersion: chip.version) { Self.accepts($0.status) }
    }

    /// Whether a status reported by the worker may replace the stored one: not while whago itself
    /// holds the chip (being deleted, expired by the reaper).
    static func accepts(_ current: ChipStatus) -> Bool {
        switch current {
        case .deleting, .expired: false
        default: true
        }
    }

    /// DELETING → gone: the session deleted, the proxy lease released, the chip and its
    /// `chip.deleted` event stored in one batch. A worker that cannot be reached leaves the chip
    /// DELETING for the reconciler (unless the worker is gone, which deletes its sessions too).
    func finishDelete(_ id: ChipID, fence: Fence? = nil) async throws {
        try await operations.run(id) { try await finishDeleteNow(id, fence: fence) }
    }

    private func finishDeleteNow(_ id: ChipID, fence: Fence?) async throws {
        guard let chip = try await context.store.chip(id) else { return }
        guard chip.status == .deleting else { return }
        if let workerID = chip.worker, let worker = try await context.store.worker(workerID) {
            do {
                try await context.sessions.delete(id, on: context.endpoint(of: worker))
            } catch let error as WhagoError where error.code == .unavailable {
                if try await context.runtime.inspect(context.handle(of: worker)) != nil { throw error }
            }
        }
        if let lease = try await context.store.proxyLease(of: id) {
            try await context.proxy.release(lease, leases: context.proxyLeases)
        }
        let now = Date()
        let event = ChipEvent(id: EventID.make(prefix: "evt", at: now), chip: id, kind: .deleted, payload: .object(["name": .string(chip.name)]),
                              occurredAt: now)
        do {
            try await context.store.apply(StoreBatch([.deleteChip(id, version: chip.version), .enqueue([OutboxEntry(event: event, tenant: chip.tenant)])],
                                                     fence: fence))
        } catch let error as WhagoError where error.code == .conflict || error.code == .notFound {
            // Deleted (or touched) meanwhile by another step: the next pass looks again.
            if try await context.store.chip(id) != nil { throw error }
        }
        context.logger.info("chip deleted", metadata: ["chip": "\(id)", "tenant": "\(chip.tenant)"])
    }

    /// A reason a tenant can read, from any error.
    static func reason(_ error: any Error) -> String {
        if let error = error as? WhagoError { return error.description }
        return WorkerText.clean(String(describing: error), limit: 300)
    }
}

/// Counts failed attempts per chip.
actor AttemptCounter {
    private var counts: [ChipID: Int] = [:]

    /// Records one more failure; returns how many there were.
    func record(_ chip: ChipID) -> Int {
        counts[chip, default: 0] += 1
        return counts[chip]!
    }

    func forget(_ chip: ChipID) { counts[chip] = nil }
}
