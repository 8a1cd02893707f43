import Foundation
import Logging
public import ServiceLifecycle
public import WhagoCore

/// Makes the runtime and the workers match the store, at startup and every
/// `orchestrator.reconcileInterval`, while this process leads: labelled workers the store knows
/// are adopted, missing ones re-created (same name, port and volume), sessions no chip knows
/// deleted, chips that are not at rest (PROVISIONING, DELETING, placed on no worker) driven to
/// their end, and leases of things that are gone released. Every step is idempotent, so a crash
/// at any point of any operation leaves a state this pass finishes or undoes.
public struct Reconciler: Service {
    let context: OrchestratorContext
    let leadership: Leadership
    let launcher: WorkerLauncher
    let provisioner: Provisioner
    let transitions: ChipTransitions
    let reaper: Reaper

    public func run() async throws {
        await leadership.whileLeading(every: context.settings.reconcileInterval.duration, waitForLeadership: true) { fence in
            await pass(fence: fence)
        }
    }

    /// One whole pass.
    public func pass(fence: Fence) async {
        let started = ContinuousClock.now
        do {
            try await reconcileWorkers(fence: fence)
            try await reaper.removeOrphans()
            try await reconcileChips(fence: fence)
            try await releaseLostLeases()
            context.logger.debug("reconciled in \(ContinuousClock.now - started)")
        } catch {
            context.logger.warning("reconcile pass failed: \(Provisioner.reason(error))")
        }
    }

    func reconcileWorkers(fence: Fence) async throws {
        let handles = try await context.runtime.list(labels: [WorkerLabel.instance: context.instance.rawValue])
        var byWorker: [String: WorkerHandle] = [:]
        for handle in handles { if let id = handle.labels[WorkerLabel.worker] { byWorker[id] = handle } }
        // Every chip of the installation but those being deleted: workers sharing one session
        // database list each other's sessions, and a session of a chip placed elsewhere is not
        // this worker's to delete.
        let installation = Set(try await context.store.allChips().filter { $0.status != .deleting }.map(\.id))
        for worker in try await context.store.workers() {
            let chips = try await context.store.chips(on: worker.id)
            let active = chips.filter { !HealthMonitor.resting($0.status) || $0.status == .provisioning }
            if let handle = byWorker[worker.id.rawValue], let drift = drift(of: handle, from: worker) {
                // Drift: a worker of that name runs on another port (or node) than its lease. Replaced.
                context.logger.notice("worker \(worker.id) runs \(drift); re-creating it", metadata: ["worker": "\(worker.id)"])
                try await context.runtime.stop(handle, grace: .seconds(10))
                try await context.runtime.remove(handle)
                byWorker[worker.id.rawValue] = nil
            }
            if let handle = byWorker[worker.id.rawValue] {
                if worker.runtimeID != handle.runtimeID {
                    var adopted = worker
                    adopted.runtimeID = handle.runtimeID
                    try? await context.store.apply(StoreBatch([.updateWorker(adopted)], fence: fence))
                    context.logger.info("adopted worker \(worker.id)", metadata: ["worker": "\(worker.id)", "runtimeID": "\(handle.runtimeID)"])
                }
            } else if !active.isEmpty {
                context.logger.notice("worker \(worker.id) is missing from the runtime; re-creating it", metadata: ["worker": "\(worker.id)"])
            } else {
                continue
            }
            guard !chips.isEmpty else { continue }
            do {
                let running = try await launcher.ensureRunning(worker.id, recovering: byWorker[worker.id.rawValue] == nil && worker.runtimeID != nil)
                try await deleteStraySessions(on: running, known: installation)
            } catch {
                context.logger.warning("could not reconcile worker \(worker.id): \(Provisioner.reason(error))", metadata: ["worker": "\(worker.id)"])
            }
        }
    }

    /// How the runtime's worker differs from its lease (port, or node), or nil when it does not.
    func drift(of handle: WorkerHandle, from worker: Worker) -> String? {
        if handle.labels[WorkerLabel.port] != "\(worker.port)" {
            return "on port \(handle.labels[WorkerLabel.port] ?? "?") instead of \(worker.port)"
        }
        if context.runtime.placesWorkersOnSeveralHosts, handle.labels[WorkerLabel.node] != worker.host {
            return "on node \(handle.labels[WorkerLabel.node] ?? "?") instead of \(worker.host)"
        }
        return nil
    }

    /// Sessions the worker lists that no chip of the installation has (a chip deleted while its
    /// worker was down, a crash between two steps). With a session database shared by several
    /// workers, a worker lists every worker's sessions (WAHA's `GET /api/sessions?all=true` reads the
    /// whole store) and deletes in the whole store: a session of a chip placed on another worker
    /// is that chip's, never a stray. `known` may be older than the listing (a chip created since
    /// has its session already): a session it does not name is looked up again before it goes.
    func deleteStraySessions(on worker: Worker, known: Set<ChipID>) async throws {
        let endpoint = context.endpoint(of: worker)
        for session in try await context.sessions.sessions(on: endpoint) where !known.contains(session) {
            if let chip = try await context.store.chip(session), chip.status != .deleting { continue }
            context.logger.notice("deleting session \(WorkerText.clean(session.rawValue, limit: 64)) on worker \(worker.id): no chip knows it",
                                  metadata: ["worker": "\(worker.id)"])
            try await context.sessions.delete(session, on: endpoint)
            context.counters.increment(.strayedSessionsDeleted)
        }
    }

    func reconcileChips(fence: Fence) async throws {
        let chips = try await context.store.allChips()
        await withTaskGroup(of: Void.self) { group in
            var running = 0
            for chip in chips {
                if running >= 8 {
                    await group.next()
                    running -= 1
                }
                group.addTask { await reconcile(chip, fence: fence) }
                running += 1
            }
        }
    }

    private func reconcile(_ chip: Chip, fence: Fence) async {
        do {
            switch chip.status {
            case .provisioning:
                await provisioner.provision(chip.id, fence: fence)
            case .deleting:
                try await provisioner.finishDelete(chip.id, fence: fence)
            case .expired:
                if let workerID = chip.worker, let worker = try await context.store.worker(workerID) {
                    try await context.sessions.stop(chip.id, on: context.endpoint(of: worker))
                }
            default:
                guard chip.worker == nil else { return }
                // Its worker was removed under it: place it again.
                try await transitions.move(chip.id, to: .provisioning, reason: "its worker was removed; placing it again", fence: fence,
                                           expectedVersion: chip.version)
                await provisioner.provision(chip.id, fence: fence)
            }
        } catch {
            context.logger.warning("could not reconcile chip \(chip.id): \(Provisioner.reason(error))", metadata: ["chip": "\(chip.id)"])
        }
    }

    /// Proxy leases whose chip is gone go back to the provider.
    func releaseLostLeases() async throws {
        let chips = Set(try await context.store.allChips().map(\.id))
        for lease in try await context.store.proxyLeases() where !chips.contains(lease.chip) {
            context.logger.notice("releasing the proxy lease of chip \(lease.chip), which no longer exists")
            try await context.proxy.release(lease, leases: context.proxyLeases)
        }
        let workers = Set(try await context.store.workers().map(\.id))
        for lease in try await context.store.portLeases() where !workers.contains(lease.worker) {
            context.logger.error("port \(lease.host):\(lease.port) is leased to worker \(lease.worker), which does not exist (the store should make this impossible)")
        }
    }
}
