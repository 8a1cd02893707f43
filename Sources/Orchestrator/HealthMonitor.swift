import Foundation
import Logging
public import ServiceLifecycle
public import WhagoCore

/// Watches workers and chips while this process leads: the runtime's events, and every
/// `orchestrator.healthInterval` each worker inspected and probed and each chip's session read.
///
/// A dead worker is started again, a missing one re-created with the same name, port and volume
/// (its sessions live in the volume, so paired chips come back WORKING without a scan), one whose
/// node was lost moved to another node with a port leased there, and a
/// session that is gone is ensured again with its stored proxy lease. A FAILED session is
/// restarted `failedRestarts` times with a doubling backoff, then left FAILED for the tenant.
/// A proxy that fails its check is reported on the chip and, by policy, replaced.
public actor HealthMonitor: Service {
    let context: OrchestratorContext
    let leadership: Leadership
    let launcher: WorkerLauncher
    let provisioner: Provisioner
    let transitions: ChipTransitions

    /// Consecutive failed probes of a running worker, by worker.
    private var failedProbes: [WorkerID: Int] = [:]
    /// FAILED sessions: restarts done and when the next may happen, by chip.
    private var failedRestarts: [ChipID: (count: Int, next: Date)] = [:]
    /// When each chip's proxy was last checked.
    private var proxyChecked: [ChipID: Date] = [:]
    /// Probes of a running worker that fail in a row before it is restarted.
    static let probesBeforeRestart = 3

    init(context: OrchestratorContext, leadership: Leadership, launcher: WorkerLauncher, provisioner: Provisioner, transitions: ChipTransitions) {
        self.context = context
        self.leadership = leadership
        self.launcher = launcher
        self.provisioner = provisioner
        self.transitions = transitions
    }

    public func run() async throws {
        let events = context.runtime.events()
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await self.consume(events) }
                group.addTask {
                    await self.leadership.whileLeading(every: self.context.settings.healthInterval.duration) { fence in
                        await self.checkAll(fence: fence)
                    }
                }
                await group.waitForAll()
            }
        }
    }

    /// Runtime events: an exit or bad health is looked at now rather than at the next tick.
    private func consume(_ events: AsyncThrowingStream<RuntimeEvent, any Error>) async {
        do {
            for try await event in events {
                guard event.handle.labels[WorkerLabel.instance] == context.instance.rawValue,
                      let id = event.handle.labels[WorkerLabel.worker].map(WorkerID.init(rawValue:)) else { continue }
                switch event.kind {
                case .exited, .outOfMemory, .health(.unhealthy):
                    await launcher.invalidate(id)
                    context.logger.notice("worker \(id) \(Self.describe(event.kind))", metadata: ["worker": "\(id)"])
                    if let fence = await leadership.fence(), let worker = try? await context.store.worker(id) {
                        await check(worker, fence: fence)
                    }
                case .started, .health:
                    continue
                }
            }
        } catch {
            if !Task.isCancelled { context.logger.warning("runtime events ended: \(error); the periodic checks go on") }
        }
    }

    private static func describe(_ kind: RuntimeEvent.Kind) -> String {
        switch kind {
        case .exited(let code): "exited" + (code.map { " with code \($0)" } ?? "")
        case .outOfMemory: "ran out of memory"
        case .health(let health): "is \(health.rawValue)"
        case .started: "started"
        }
    }

    /// One pass over every worker (a few at a time).
    public func checkAll(fence: Fence) async {
        guard let workers = try? await context.store.workers() else { return }
        await withTaskGroup(of: Void.self) { group in
            var running = 0
            for worker in workers {
                if running >= 8 {
                    await group.next()
                    running -= 1
                }
                group.addTask { await self.check(worker, fence: fence) }
                running += 1
            }
        }
    }

    /// Looks at one worker and its chips; repairs what it can.
    func check(_ worker: Worker, fence: Fence) async {
        do {
            let chips = try await context.store.chips(on: worker.id).filter { !Self.resting($0.status) }
            guard !chips.isEmpty else { return }
            let state = try await context.runtime.inspect(context.handle(of: worker))
            var current = worker
            if state?.nodeLost == true {
                context.logger.warning("the node of worker \(worker.id) (\(worker.host)) is lost; moving the worker to another node",
                                       metadata: ["worker": "\(worker.id)"])
                current = try await launcher.moveOffLostNode(worker, fence: fence)
            } else if state == nil || ![.running, .restarting].contains(state!.status) {
                context.logger.notice("worker \(worker.id) is \(state.map { $0.status.rawValue } ?? "missing"); bringing it back",
                                      metadata: ["worker": "\(worker.id)"])
                current = try await launcher.ensureRunning(worker.id, recovering: true)
            } else if state!.status == .restarting {
                return
            } else {
                if let address = state!.address, address != worker.address {
                    // Its node is reached at another address now (its whago.address label changed).
                    current = try await launcher.relocate(worker, to: address, fence: fence)
                }
                // The version is read once per worker (and again after it was brought back).
                let knowsVersion = await launcher.versions[worker.id] != nil
                let health = try? await context.sessions.health(of: context.endpoint(of: current), version: !knowsVersion)
                if health?.reachable == true {
                    failedProbes[worker.id] = nil
                    await launcher.noteHealthy(worker.id, version: health?.version, detail: health?.detail)
                    try await recordHealthy(current, fence: fence)
                } else {
                    let failures = failedProbes[worker.id, default: 0] + 1
                    failedProbes[worker.id] = failures
                    await launcher.invalidate(worker.id)
                    guard failures >= Self.probesBeforeRestart else { return }
                    context.logger.warning("worker \(worker.id) failed \(failures) health probes in a row (\(health?.detail ?? "unreachable")); restarting it",
                                           metadata: ["worker": "\(worker.id)"])
                    failedProbes[worker.id] = nil
                    try await context.runtime.stop(context.handle(of: worker), grace: .seconds(10))
                    current = try await launcher.ensureRunning(worker.id, recovering: true)
                }
            }
            for chip in chips { await check(chip, on: current, fence: fence) }
        } catch {
            context.logger.warning("health check of worker \(worker.id) failed: \(Provisioner.reason(error))", metadata: ["worker": "\(worker.id)"])
        }
    }

    /// Chips whose session whago does not keep running: being set up or torn down, or expired.
    static func resting(_ status: ChipStatus) -> Bool {
        [.provisioning, .deleting, .expired].contains(status)
    }

    private func recordHealthy(_ worker: Worker, fence: Fence) async throws {
        // Written at most once a minute: the record's version is not a heartbeat.
        let now = Date()
        guard worker.lastHealthyAt.map({ now.timeIntervalSince($0) >= 60 }) ?? true else { return }
        var updated = worker
        updated.lastHealthyAt = now
        try? await context.store.apply(StoreBatch([.updateWorker(updated)], fence: fence))
    }

    /// One chip on a running worker: its session there, its status stored, the FAILED policy, its proxy.
    func check(_ chip: Chip, on worker: Worker, fence: Fence) async {
        do {
            let endpoint = context.endpoint(of: worker)
            guard let status = try await context.sessions.status(of: chip.id, on: endpoint) else {
                context.logger.notice("the session of chip \(chip.id) is gone from its worker; ensuring it again", metadata: ["chip": "\(chip.id)"])
                try await provisioner.ensureSession(chip, on: worker)
                return
            }
            try await provisioner.apply(status, to: chip, fence: fence)
            switch status.status {
            case .stopped:
                // Nothing whago keeps stopped runs through here (EXPIRED chips rest): drift, started again.
                context.logger.notice("the session of chip \(chip.id) is STOPPED; starting it", metadata: ["chip": "\(chip.id)"])
                try await provisioner.ensureSession(chip, on: worker)
            case .failed: try await applyFailedPolicy(chip, on: endpoint)
            case .working: failedRestarts[chip.id] = nil
            default: break
            }
            try await checkProxy(chip, on: worker, fence: fence)
        } catch {
            context.logger.warning("health check of chip \(chip.id) failed: \(Provisioner.reason(error))", metadata: ["chip": "\(chip.id)"])
        }
    }

    private func applyFailedPolicy(_ chip: Chip, on endpoint: WorkerEndpoint) async throws {
        let now = Date()
        let backoff = context.settings.failedRestartBackoff.duration.seconds
        guard let state = failedRestarts[chip.id] else {
            failedRestarts[chip.id] = (0, now.addingTimeInterval(backoff))
            return
        }
        guard state.count < context.settings.failedRestarts else {
            if state.count == context.settings.failedRestarts {
                context.logger.notice("chip \(chip.id) stays FAILED after \(state.count) restarts; the tenant may restart it", metadata: ["chip": "\(chip.id)"])
                failedRestarts[chip.id] = (state.count + 1, .distantFuture)
                context.counters.increment(.failedSessionsGivenUp)
            }
            return
        }
        guard now >= state.next else { return }
        context.logger.info("restarting the FAILED session of chip \(chip.id) (\(state.count + 1) of \(context.settings.failedRestarts))",
                            metadata: ["chip": "\(chip.id)"])
        try await context.sessions.restart(chip.id, on: endpoint)
        failedRestarts[chip.id] = (state.count + 1, now.addingTimeInterval(backoff * pow(2, Double(state.count + 1))))
        context.counters.increment(.failedSessionsRestarted)
    }

    private func checkProxy(_ chip: Chip, on worker: Worker, fence: Fence) async throws {
        let now = Date()
        if let last = proxyChecked[chip.id], now.timeIntervalSince(last) < context.settings.proxyCheckInterval.duration.seconds { return }
        proxyChecked[chip.id] = now
        guard let lease = try await context.store.proxyLease(of: chip.id) else {
            // Released after a failed check, and no new one could be leased then: try again now.
            context.logger.notice("chip \(chip.id) holds no proxy lease; leasing one", metadata: ["chip": "\(chip.id)"])
            try await provisioner.ensureSession(chip, on: worker)
            return
        }
        do {
            _ = try await context.proxy.check(lease)
        } catch {
            // Reported first, so the tenant hears of it whatever the replacement does.
            let reason = Provisioner.reason(error)
            context.logger.warning("the proxy of chip \(chip.id) failed its check: \(reason)", metadata: ["chip": "\(chip.id)"])
            let payload: [String: JSONValue] = ["error": .string(reason), "proxy": .string(lease.endpoint?.description ?? "direct"),
                                                "replaced": .bool(context.settings.releaseFailingProxy)]
            let event = ChipEvent(id: EventID.make(prefix: "evt"), chip: chip.id, kind: ChipEvent.Kind.proxyFailed, payload: .object(payload))
            try await context.store.apply(StoreBatch([.enqueue([OutboxEntry(event: event, tenant: chip.tenant)])], fence: fence))
            context.counters.increment(.proxiesFailed)
            guard context.settings.releaseFailingProxy else { return }
            try await context.proxy.release(lease, leases: context.proxyLeases)
            // A new lease (checked when the provider checks at lease time) and the session moved onto it.
            try await provisioner.ensureSession(chip, on: worker)
            context.counters.increment(.proxiesReplaced)
        }
    }
}

extension ChipEvent.Kind {
    /// The chip's proxy failed its check (and was replaced, by policy).
    public static let proxyFailed: Self = "chip.proxy_failed"
}
