public import Foundation
import Logging
public import ServiceLifecycle
public import WhagoCore

/// Cleans up while this process leads, every `orchestrator.healthInterval`: workers hosting no chip
/// for `idleWorkerGrace` are removed (their port goes back to the pool), chips not paired within
/// `qrBudget` become EXPIRED with their session stopped (the tenant may restart them), and
/// runtime workers labelled with this installation that no record knows are removed. (Webhook
/// dedupe entries expire in the store itself as new ones are recorded.)
public struct Reaper: Service {
    let context: OrchestratorContext
    let leadership: Leadership
    let transitions: ChipTransitions

    public func run() async throws {
        await leadership.whileLeading(every: context.settings.healthInterval.duration) { fence in await pass(fence: fence) }
    }

    /// One pass of every rule.
    public func pass(fence: Fence, now: Date = Date()) async {
        do {
            try await reapIdleWorkers(fence: fence, now: now)
            try await expireUnpairedChips(fence: fence, now: now)
            try await removeOrphans()
        } catch {
            context.logger.warning("reaper pass failed: \(Provisioner.reason(error))")
        }
    }

    func reapIdleWorkers(fence: Fence, now: Date) async throws {
        for worker in try await context.store.workers() {
            let hosted = try await context.store.chips(on: worker.id).count
            var updated = worker
            if hosted > 0 {
                guard worker.idleSince != nil else { continue }
                updated.idleSince = nil
            } else if let since = worker.idleSince {
                guard now.timeIntervalSince(since) >= context.settings.idleWorkerGrace.duration.seconds else { continue }
                do {
                    try await WorkerRemoval(context: context).remove(worker, fence: fence)
                    context.counters.increment(.workersReaped)
                } catch {
                    context.logger.warning("could not remove idle worker \(worker.id): \(Provisioner.reason(error))", metadata: ["worker": "\(worker.id)"])
                }
                continue
            } else {
                updated.idleSince = now
            }
            // A stale version means the worker changed meanwhile: the next pass decides again.
            try? await context.store.apply(StoreBatch([.updateWorker(updated)], fence: fence))
        }
    }

    func expireUnpairedChips(fence: Fence, now: Date) async throws {
        let budget = context.settings.qrBudget.duration.seconds
        for chip in try await context.store.allChips() {
            guard let since = chip.pairingSince, [.starting, .scanQRCode, .failed].contains(chip.status),
                  now.timeIntervalSince(since) >= budget else { continue }
            let outcome = try await transitions.move(chip.id, to: .expired, reason: "not paired within the QR budget (\(context.settings.qrBudget))",
                                                     fence: fence, expectedVersion: chip.version)
            guard case .applied = outcome else { continue }
            context.counters.increment(.chipsExpired)
            context.logger.info("chip expired: not paired within \(context.settings.qrBudget)", metadata: ["chip": "\(chip.id)"])
            // Stopped after the status is stored: a crash in between leaves an EXPIRED chip whose
            // session the reconciler stops.
            if let workerID = chip.worker, let worker = try await context.store.worker(workerID) {
                try? await context.sessions.stop(chip.id, on: context.endpoint(of: worker))
            }
        }
    }

    /// Removes runtime workers of this installation that no record knows.
    func removeOrphans() async throws {
        let handles = try await context.runtime.list(labels: [WorkerLabel.instance: context.instance.rawValue])
        guard !handles.isEmpty else { return }
        let known = Set(try await context.store.workers().map(\.id.rawValue))
        for handle in handles where !known.contains(handle.labels[WorkerLabel.worker] ?? "") {
            context.logger.notice("removing orphan worker \(handle.name): no record knows it", metadata: ["runtimeID": "\(handle.runtimeID)"])
            try await context.runtime.stop(handle, grace: .seconds(10))
            try await context.runtime.remove(handle)
            context.counters.increment(.orphansRemoved)
        }
    }
}
