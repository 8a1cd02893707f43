import FileStore
import Foundation
import Logging
@_spi(Testing) import Orchestrator
import Synchronization
import Testing
import WhagoCore
import WhagoRig
import WhagoTesting

extension OrchestratorScenarios {
    @Suite("Tenants, keys and leadership", .timeLimit(.minutes(5)))
    struct TenantAndLeadershipTests {
        @Test("a tenant's key is shown once and stored hashed; rotation revokes the old key; a tenant with chips cannot be deleted")
        func tenantsAndKeys() async throws {
            try await withRig(.file, ports: 2) { rig in
                let tenants = rig.orchestrator.tenants
                let (tenant, key) = try await tenants.create(TenantService.Settings(name: "Acme", chipLimit: 3,
                                                                                   webhookURL: URL(string: "https://acme.example/hooks")))
                #expect(tenant.chipLimit == 3)
                #expect(tenant.webhookSecret != nil, "a webhook gets a signing secret")
                #expect(try await tenants.authenticate(key) == tenant.id)
                let stored = try await rig.store.apiKeys(of: tenant.id)
                #expect(stored.count == 1 && !stored[0].hash.contains(String(key.split(separator: ".").last!)), "only a hash is stored")
                #expect(try await tenants.authenticate(key + "x") == nil)
                #expect(try await tenants.authenticate("wk_nothing.at-all") == nil)

                let rotated = try await tenants.rotateKey(of: tenant.id)
                #expect(try await tenants.authenticate(key) == nil, "the old key is revoked")
                #expect(try await tenants.authenticate(rotated) == tenant.id)

                let chip = try await rig.orchestrator.chips.create(ChipService.Request(name: "one"), for: tenant.id)
                await #expect { try await tenants.delete(tenant.id) } throws: { ($0 as? WhagoError)?.code == .conflict }
                try await rig.waitForStatus(chip.id, .scanQRCode)
                try await rig.orchestrator.chips.delete(chip.id, of: tenant.id)
                try await tenants.delete(tenant.id)
                #expect(try await rig.store.tenant(tenant.id) == nil)
                #expect(try await rig.store.workers().isEmpty, "its idle worker went with it")
                #expect(try await rig.runtime.list(labels: [WorkerLabel.instance: rig.options.instance.rawValue]).isEmpty)
                await #expect { try await tenants.create(TenantService.Settings(name: "\u{0}")) } throws: { ($0 as? WhagoError)?.code == .invalidRequest }
                await #expect { try await tenants.create(TenantService.Settings(name: "x", webhookURL: URL(string: "ftp://x/"))) } throws: {
                    ($0 as? WhagoError)?.code == .invalidRequest
                }
            }
        }

        @Test("one leader at a time; when it resigns another takes over, and the deposed leader's fenced writes are refused")
        func leadership() async throws {
            let directory = try TemporaryDirectory("leadership")
            defer { directory.remove() }
            let store = try await FileStore(directory: directory.path)
            let (first, second) = Self.twoReplicas(on: store)
            #expect(await first.attempt())
            #expect(await second.attempt() == false)
            #expect(await second.fence() == nil)
            let deposed = try #require(await first.fence())
            try await store.apply(StoreBatch([], fence: deposed))
            await first.resign()
            #expect(await second.attempt())
            let current = try #require(await second.fence())
            #expect(current.token > deposed.token)
            await #expect { try await store.apply(StoreBatch([.createTenant(Tenant(id: "late", name: "late"))], fence: deposed)) } throws: {
                ($0 as? WhagoError)?.code == .conflict
            }
            #expect(try await store.tenant("late") == nil)
            await store.shutdown()
        }

        /// Two replicas' leaderships of one installation on `store`.
        static func twoReplicas(on store: any Store) -> (Leadership, Leadership) {
            var logger = Logger(label: "leadership-test")
            logger.logLevel = .critical
            return (Leadership(store: store, instance: "i", ttl: .seconds(30), logger: logger),
                    Leadership(store: store, instance: "i", ttl: .seconds(30), logger: logger))
        }

        @Test("a replica that never leads still stops: waiting for the leadership ends when the task is cancelled")
        func waitingEndsOnCancel() async throws {
            let directory = try TemporaryDirectory("leadership-wait")
            defer { directory.remove() }
            let store = try await FileStore(directory: directory.path)
            let (leader, follower) = Self.twoReplicas(on: store)
            #expect(await leader.attempt())
            #expect(await follower.attempt() == false)
            let returned = Mutex(false)
            let waiting = Task {
                await follower.waitUntilLeader()
                returned.withLock { $0 = true }
            }
            // Waiting for real (its continuation registered), not returned at once.
            try await waitUntil("the follower waits for the leadership") { await follower.waitingCount == 1 }
            #expect(returned.withLock { $0 } == false, "it does not return while another replica leads")
            waiting.cancel()
            await waiting.value
            #expect(returned.withLock { $0 }, "the wait returned once cancelled")
            #expect(await follower.waitingCount == 0, "and its continuation is gone")
            #expect(await follower.isLeader == false, "returned because it was cancelled, not because it leads")
            await store.shutdown()
        }
    }
}
