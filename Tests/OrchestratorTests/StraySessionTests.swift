import Foundation
@testable import Orchestrator
import Testing
import WAHAPlusProvider
import WhagoCore
import WhagoRig
import WhagoTesting

extension OrchestratorScenarios {
    @Suite("Stray sessions", .timeLimit(.minutes(5)))
    struct StraySessionTests {
        @Test("a session no chip has is deleted; one whose chip appeared after the reconcile read the chips is kept")
        func strays() async throws {
            try await withRig(.file, ports: 2) { rig in
                let tenant = try await makeTenant(rig, "strays")
                let chip = try await rig.orchestrator.chips.create(ChipService.Request(name: "kept"), for: tenant)
                try await rig.waitForStatus(chip.id, .scanQRCode)
                let worker = try await workerOf(rig, chip)
                let endpoint = rig.endpoint(of: worker)
                let webhook = WebhookTarget(url: URL(string: "http://127.0.0.1:9/hook")!, secret: Secret("s"))
                // A session left behind (a chip deleted while its worker was down, say).
                try await rig.sessions.ensureSession(ChipSpec(chip: "chip_left_behind", tenant: tenant), on: endpoint, proxy: nil, webhook: webhook)
                #expect(Set(try await rig.sessions.sessions(on: endpoint)) == [chip.id, "chip_left_behind"])

                // The reconciler read the chips before this one was made (an empty set here): its
                // session is listed, looked up again, and kept.
                try await rig.orchestrator.reconciler.deleteStraySessions(on: worker, known: [])
                #expect(Set(try await rig.sessions.sessions(on: endpoint)) == [chip.id], "the stray went, the chip's session stayed")
                #expect(rig.orchestrator.counters[.strayedSessionsDeleted] == 1)
                _ = try await rig.waitForStatus(chip.id, .scanQRCode)
            }
        }
    }
}
