import Foundation
import Orchestrator
import WhagoCore
import WhagoRig

/// `whago-bench chip-burst DIR PORTS INSTANCE CHIPS [--postgres URL SCHEMA]`: an orchestrator (the
/// code `whago serve` runs) on DIR, creating chips four at a time, round robin over three tenants,
/// until CHIPS exist, deleting a quarter of them right after; it prints `ready` once running,
/// `ack <chip id>` after each creation the orchestrator acknowledged, `deleting <chip id>` before
/// and `deleted <chip id>` after each deletion, then keeps running. The crash test SIGKILLs it at random points.
enum ChipBurst {
    static func run(_ arguments: [String]) async throws {
        guard arguments.count == 4 || (arguments.count == 7 && arguments[4] == "--postgres"),
              let ports = PortRange(arguments[1]), let target = Int(arguments[3]) else {
            throw BenchError("usage: whago-bench chip-burst DIR PORTS INSTANCE CHIPS [--postgres URL SCHEMA]")
        }
        let store: OrchestratorRig.StoreChoice = arguments.count == 7 ? .postgres(url: arguments[5], schema: arguments[6]) : .file
        let settings = OrchestratorConfig(healthInterval: .seconds(1), reconcileInterval: .seconds(1), workerStartTimeout: .seconds(30),
                                          leaderLeaseTTL: .seconds(1), failedRestarts: 0)
        let rig = try await OrchestratorRig.start(OrchestratorRig.Options(
            directory: arguments[0], store: store, ports: ports, sessionsPerWorker: 10, instance: InstanceID(arguments[2]),
            settings: settings, limits: LimitsConfig(chipsPerTenant: target)))
        var tenants: [TenantID] = []
        for name in ["burst-0", "burst-1", "burst-2"] {
            if let existing = try await rig.store.tenants().first(where: { $0.name == name }) {
                tenants.append(existing.id)
            } else {
                tenants.append(try await rig.orchestrator.tenants.create(TenantService.Settings(name: name)).tenant.id)
            }
        }
        let owners = tenants
        Acks.print("ready")
        let counter = Counter()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for lane in 0..<4 {
                group.addTask {
                    while true {
                        let existing = try await rig.store.allChips().count
                        guard existing < target, await counter.take(below: target - existing) else { return }
                        let tenant = owners[lane % owners.count]
                        let chip = try await rig.orchestrator.chips.create(
                            ChipService.Request(name: "burst-\(UUID().uuidString.prefix(8).lowercased())"), for: tenant)
                        Acks.print("ack \(chip.id)")
                        // A quarter are deleted at once, so that kills also land in deletions.
                        if Int.random(in: 0..<4) == 0 {
                            Acks.print("deleting \(chip.id)")
                            try await rig.orchestrator.chips.delete(chip.id, of: tenant)
                            Acks.print("deleted \(chip.id)")
                        }
                        await counter.done()
                    }
                }
            }
            try await group.waitForAll()
        }
        Acks.print("done")
        while true { try await Task.sleep(for: .seconds(3600)) }
    }

    /// Creations in flight, so that four lanes never overshoot the target together.
    actor Counter {
        private var inFlight = 0

        func take(below limit: Int) -> Bool {
            guard inFlight < limit else { return false }
            inFlight += 1
            return true
        }

        func done() { inFlight -= 1 }
    }
}
