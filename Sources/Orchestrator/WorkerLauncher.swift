import Foundation
import Logging
import WhagoCore

/// Brings workers up: launches (or adopts) a worker record's runtime worker, records its runtime
/// id, and waits until its API answers. Concurrent callers for one worker share one attempt, and
/// a worker found healthy recently is not probed again.
actor WorkerLauncher {
    let context: OrchestratorContext
    /// Workers that answered their health probe, and when.
    private var healthy: [WorkerID: ContinuousClock.Instant] = [:]
    /// Attempts in flight, by worker.
    private var inFlight: [WorkerID: Task<Worker, any Error>] = [:]
    /// The session software's version per worker, as last probed (a warning about it is logged once).
    private(set) var versions: [WorkerID: String] = [:]

    init(context: OrchestratorContext) {
        self.context = context
    }

    /// Forgets that a worker was healthy (it exited, or stopped answering).
    func invalidate(_ worker: WorkerID) {
        healthy[worker] = nil
    }

    /// Whether the worker answered its probe within the last health interval.
    func recentlyHealthy(_ worker: WorkerID) -> Bool {
        guard let last = healthy[worker] else { return false }
        return ContinuousClock.now - last < context.settings.healthInterval.duration
    }

    /// The worker record, once its runtime worker runs and its API answers.
    /// - Parameter recovering: the worker died or went missing; count it as a restart.
    func ensureRunning(_ id: WorkerID, recovering: Bool = false) async throws -> Worker {
        if !recovering, recentlyHealthy(id), let worker = try await context.store.worker(id) { return worker }
        if let running = inFlight[id] { return try await running.value }
        let task = Task { try await self.bringUp(id, recovering: recovering) }
        inFlight[id] = task
        defer { if inFlight[id] == task { inFlight[id] = nil } }
        return try await task.value
    }

    private func bringUp(_ id: WorkerID, recovering: Bool) async throws -> Worker {
        guard var worker = try await context.store.worker(id) else {
            throw WhagoError(.notFound, "worker \(id) no longer exists")
        }
        let firstLaunch = worker.runtimeID == nil
        let handle = try await context.runtime.launch(context.spec(of: worker))
        if worker.runtimeID != handle.runtimeID || recovering {
            worker.runtimeID = handle.runtimeID
            if recovering { worker.restarts += 1 }
            do {
                try await context.store.apply(StoreBatch([.updateWorker(worker)]))
                worker.version += 1
            } catch let error as WhagoError where error.code == .conflict {
                // Someone else updated it meanwhile (the health monitor, another step): take theirs.
                worker = try await context.store.worker(id) ?? worker
            }
        }
        if firstLaunch {
            context.counters.increment(.workersLaunched)
            context.logger.info("worker launched", metadata: ["worker": "\(id)", "tenant": "\(worker.tenant)", "port": "\(worker.port)"])
        } else if recovering {
            // Re-created, maybe from another image: its version is read again.
            versions[id] = nil
            context.counters.increment(.workersRecovered)
            context.logger.notice("worker recovered", metadata: ["worker": "\(id)", "restarts": "\(worker.restarts)"])
        }
        try await waitUntilHealthy(worker)
        return worker
    }

    /// The worker record with the ``Worker/address`` its node is reached at now (the node's
    /// `whago.address` label changed): it is reached there from now on. Its port lease stays.
    func relocate(_ worker: Worker, to address: String, fence: Fence? = nil) async throws -> Worker {
        var moved = worker
        moved.address = address
        do {
            try await context.store.apply(StoreBatch([.updateWorker(moved)], fence: fence))
            moved.version += 1
        } catch let error as WhagoError where error.code == .conflict {
            moved = try await context.store.worker(worker.id) ?? moved
            guard moved.address != address else { return moved }
            throw error
        }
        healthy[worker.id] = nil
        context.logger.notice("worker \(worker.id) runs on \(address) now", metadata: ["worker": "\(worker.id)", "from": "\(worker.address ?? worker.host)"])
        return moved
    }

    /// Re-creates a worker whose node was lost on another node: its port lease moved there first
    /// (so a crash from here on leaves a record the reconciler repairs), the old worker removed,
    /// the worker launched on its new node. Its volume does not follow it; sessions kept outside
    /// the worker (WAHA's sessions in PostgreSQL) do, so its paired chips come back WORKING.
    func moveOffLostNode(_ worker: Worker, fence: Fence?) async throws -> Worker {
        let (moved, node) = try await Placement(context: context).move(worker, fence: fence)
        healthy[worker.id] = nil
        context.counters.increment(.workersMoved)
        context.logger.notice("worker \(worker.id) moved off its lost node \(worker.host) to node \(node.name) (\(node.address):\(moved.port))",
                              metadata: ["worker": "\(worker.id)", "from": "\(worker.host)", "node": "\(node.id)", "port": "\(moved.port)"])
        // An attempt still waiting for it on the lost node is given up (not joined), and the old
        // service, bound to that node, removed.
        inFlight.removeValue(forKey: worker.id)?.cancel()
        try await context.runtime.remove(context.handle(of: worker))
        return try await ensureRunning(worker.id, recovering: true)
    }

    /// Polls the worker's health probe until it answers (`workerStartTimeout` at most), where its
    /// record says it runs (its node's address was recorded when the node was chosen).
    func waitUntilHealthy(_ worker: Worker) async throws {
        let endpoint = context.endpoint(of: worker)
        let deadline = ContinuousClock.now + context.settings.workerStartTimeout.duration
        // A short, steady poll: a worker starting is the one thing its chips wait for.
        let delay = Duration.milliseconds(50)
        var last = "no answer yet"
        while true {
            if let health = try? await context.sessions.health(of: endpoint) {
                if health.reachable {
                    noteHealthy(worker.id, version: health.version, detail: health.detail)
                    return
                }
                last = health.detail ?? "unreachable"
            }
            guard ContinuousClock.now + delay < deadline else {
                throw WhagoError(.timedOut, "worker \(worker.id) did not answer its health probe within "
                    + "\(context.settings.workerStartTimeout) (\(last)); raise orchestrator.workerStartTimeout if workers start slowly")
            }
            try await Task.sleep(for: delay)
        }
    }

    /// Records a healthy probe; logs the session software's version (and any warning) once per worker.
    func noteHealthy(_ worker: WorkerID, version: String?, detail: String?) {
        healthy[worker] = .now
        guard let version else {
            if let detail { context.logger.warning("worker \(worker): \(detail)", metadata: ["worker": "\(worker)"]) }
            return
        }
        if versions[worker] != version {
            versions[worker] = version
            if let detail {
                context.logger.warning("worker \(worker): \(detail)", metadata: ["worker": "\(worker)", "version": "\(version)"])
            } else {
                context.logger.info("worker \(worker) runs \(version)", metadata: ["worker": "\(worker)"])
            }
        }
    }
}
