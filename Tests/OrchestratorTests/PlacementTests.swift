import Foundation
import LocalProcessRuntime
import Orchestrator
import Testing
import WhagoCore
import WhagoRig
import WhagoTesting

extension OrchestratorScenarios {
    @Suite("The orchestrator on the local runtime and the simulator", .serialized, .timeLimit(.minutes(10)))
    struct PlacementTests {
        @Test("3 tenants x 12 chips with 10 per worker: 6 workers, none shared; the 13th chip is over the quota", arguments: StoreKind.available)
        func placement(_ kind: StoreKind) async throws {
            try await withRig(kind, ports: 8) { rig in
                var chips: [TenantID: [Chip]] = [:]
                for index in 1...3 {
                    let tenant = try await makeTenant(rig, "tenant \(index)", chipLimit: 12)
                    chips[tenant] = try await withThrowingTaskGroup(of: Chip.self) { group in
                        for number in 1...12 {
                            group.addTask { try await rig.orchestrator.chips.create(ChipService.Request(name: "chip \(number)"), for: tenant) }
                        }
                        return try await group.reduce(into: []) { $0.append($1) }
                    }
                    let refused = await #expect(throws: WhagoError.self) {
                        try await rig.orchestrator.chips.create(ChipService.Request(name: "chip 13"), for: tenant)
                    }
                    #expect(refused?.code == .quotaExceeded)
                    #expect(refused?.message.contains("12") == true, "\(String(describing: refused))")
                }
                for (_, list) in chips {
                    for chip in list { try await rig.waitForStatus(chip.id, .scanQRCode) }
                }
                let workers = try await rig.store.workers()
                #expect(workers.count == 6)
                for (tenant, list) in chips {
                    let own = workers.filter { $0.tenant == tenant }
                    #expect(own.count == 2, "each tenant's 12 chips on 2 workers")
                    let placed = try await Set(list.asyncMap { try await rig.store.chip($0.id)?.worker })
                    #expect(placed == Set(own.map { Optional($0.id) }), "a tenant's chips only on its own workers")
                    for worker in own {
                        #expect(try await rig.store.chips(on: worker.id).allSatisfy { $0.tenant == tenant })
                        #expect(try await rig.store.chips(on: worker.id).count <= 10)
                    }
                }
                #expect(Set(workers.map(\.apiKey.revealed)).count == 6, "no two workers share a WAHA key")
                #expect(Set(workers.map(\.port)).count == 6)
                // Processes match records one to one.
                let handles = try await rig.runtime.list(labels: [WorkerLabel.instance: rig.options.instance.rawValue])
                #expect(Set(handles.map(\.name)) == Set(workers.map(\.name)))
                for handle in handles {
                    let worker = try #require(workers.first { $0.name == handle.name })
                    #expect(handle.labels[WorkerLabel.tenant] == worker.tenant.rawValue)
                }
            }
        }

        @Test("the port pool exhausted is an immediate capacity_exhausted naming the range and how to widen it")
        func portsExhausted() async throws {
            try await withRig(.file, ports: 1, sessionsPerWorker: 1) { rig in
                let tenant = try await makeTenant(rig, "one port")
                _ = try await rig.orchestrator.chips.create(ChipService.Request(name: "first"), for: tenant)
                let error = await #expect(throws: WhagoError.self) {
                    try await rig.orchestrator.chips.create(ChipService.Request(name: "second"), for: tenant)
                }
                #expect(error?.code == .capacityExhausted)
                #expect(error?.message.contains("runtime.local.ports") == true && error?.message.contains("widen") == true, "\(String(describing: error))")
                #expect(try await rig.store.chips(of: tenant).count == 1, "the refused chip left nothing behind")
            }
        }

        @Test("bad requests are invalid_request; another tenant's chip is not_found")
        func validation() async throws {
            try await withRig(.file, ports: 2) { rig in
                let tenant = try await makeTenant(rig, "a")
                let other = try await makeTenant(rig, "b")
                for request in [ChipService.Request(name: " "), ChipService.Request(name: "x", country: "brazil"), ChipService.Request(name: "x", city: "São Paulo"),
                                ChipService.Request(name: "bad\u{7}name")] {
                    let error = await #expect(throws: WhagoError.self) { try await rig.orchestrator.chips.create(request, for: tenant) }
                    #expect(error?.code == .invalidRequest, "\(request)")
                }
                let chip = try await rig.orchestrator.chips.create(ChipService.Request(name: "mine", country: "BR", city: "saopaulo"), for: tenant)
                #expect(chip.metadata["proxy.country"] == "br")
                await #expect { try await rig.orchestrator.chips.get(chip.id, of: other) } throws: { ($0 as? WhagoError)?.code == .notFound }
                await #expect { try await rig.orchestrator.chips.delete(chip.id, of: other) } throws: { ($0 as? WhagoError)?.code == .notFound }
                let duplicate = await #expect(throws: WhagoError.self) { try await rig.orchestrator.chips.create(ChipService.Request(name: "mine"), for: tenant) }
                #expect(duplicate?.code == .conflict)
                await #expect { try await rig.orchestrator.chips.requestPairingCode(chip.id, phoneNumber: "12ab", of: tenant) } throws: {
                    ($0 as? WhagoError)?.code == .invalidRequest
                }
            }
        }
    }
}

extension Sequence where Element: Sendable {
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var results: [T] = []
        for element in self { results.append(try await transform(element)) }
        return results
    }
}
