import CurlHTTP
import Foundation
import LocalProcessRuntime
import Orchestrator
import Testing
import WhagoCore
import WhagoServer
import WhagoTesting

extension OrchestratorScenarios {
    /// `whago serve` as a process, killed with SIGKILL and started again on the same data directory.
    @Suite("whago serve killed", .timeLimit(.minutes(5)))
    struct ServeCrashTests {
        /// A `whago serve` on `directory`, its API on `port`, its workers on `workerPorts`, loops fast.
        struct Daemon {
            let directory: TemporaryDirectory
            let port: Int
            let workerPorts: ClosedRange<Int>
            let token = "admin-" + UUID().uuidString

            var api: APIClient { APIClient(base: "http://127.0.0.1:\(port)", admin: token) }

            func start() async throws -> ChildProcess {
                let tokenFile = try directory.write("admin-token-configured", token)
                let daemon = try ChildProcess(WhagoBinary.path, [
                    "serve", "--set", "server.dataDir=\(directory.path)/data", "--set", "server.listen=127.0.0.1:\(port)",
                    "--set", "server.adminToken=file:\(tokenFile)",
                    "--set", "runtime.local.ports=\(workerPorts.lowerBound)-\(workerPorts.upperBound)",
                ] + quickServeSettings(apiRequestsPerSecond: 200))
                try await daemon.waitForOutput(containing: "listening on 127.0.0.1:\(port)")
                return daemon
            }

            /// The workers the daemon left running, as its local runtime sees them.
            var runtime: LocalProcessRuntime {
                LocalProcessRuntime(command: [WhagoBinary.path, "waha-sim"], workDirectory: "\(directory.path)/data/workers",
                                    restart: "never", ports: try! PortRange(workerPorts.lowerBound, workerPorts.upperBound), stopGrace: .seconds(2))
            }

            /// Kills every worker (SIGKILL after no grace).
            func killWorkers() async throws {
                let runtime = self.runtime
                for handle in try await runtime.list(labels: [:]) { try await runtime.stop(handle, grace: .zero) }
                await runtime.shutdown()
            }

            func removeWorkers() async {
                let runtime = self.runtime
                for handle in (try? await runtime.list(labels: [:])) ?? [] {
                    try? await runtime.stop(handle, grace: .seconds(2))
                    try? await runtime.remove(handle)
                }
                await runtime.shutdown()
            }
        }

        /// Runs `body` with a daemon's settings; afterwards its workers are removed and its directory too.
        func withDaemon(_ body: (Daemon) async throws -> Void) async throws {
            let directory = try TemporaryDirectory("serve-crash")
            let daemon = Daemon(directory: directory, port: try freePort(), workerPorts: try freePortRange(count: 4))
            do {
                try await body(daemon)
            } catch {
                await daemon.removeWorkers()
                directory.remove()
                throw error
            }
            await daemon.removeWorkers()
            directory.remove()
        }

        @Test("SIGKILL with events in the outbox: they are delivered after the restart, in order")
        func outboxSurvives() async throws {
            try await withTenantReceiver { hooks in try await withDaemon { settings in
                hooks.setDown(true)
                var whago = try await settings.start()
                let api = settings.api
                let key = try #require(try await api.call(.post, "/api/v1/tenants", key: api.admin,
                                                          json: ["name": "patient", "webhook": ["url": .string(hooks.url)]]).json["apiKey"]?.stringValue)
                let id = try #require(try await api.call(.post, "/api/v1/chips", key: key, json: ["name": "kept"]).json["id"]?.stringValue)
                try await api.waitForStatus(id, key: key, "SCAN_QR_CODE")
                let deadline = ContinuousClock.now + .seconds(20)
                while hooks.refused < 2 {
                    guard ContinuousClock.now < deadline else { Issue.record("no delivery was attempted"); return }
                    try await Task.sleep(for: .milliseconds(25))
                }
                whago.signal(SIGKILL)
                _ = try await whago.waitForExit()
                #expect(hooks.deliveries.isEmpty)
                hooks.setDown(false)

                whago = try await settings.start()
                let logged = try #require(try await api.call(.get, "/api/v1/events", key: key).json["events"]?.arrayValue)
                    .filter { $0["chip"]?.stringValue == id }.compactMap { $0["id"]?.stringValue }
                #expect(logged.count >= 2)
                try await hooks.waitFor("for every event of the chip", timeout: .seconds(30)) { _ in
                    Set(hooks.deliveries.compactMap { $0.json["id"]?.stringValue }).isSuperset(of: logged)
                }
                var seen = Set<String>()
                let arrived = hooks.deliveries.compactMap { $0.json["id"]?.stringValue }.filter { logged.contains($0) && seen.insert($0).inserted }
                #expect(arrived == logged)
                whago.signal(SIGTERM)
                #expect(try await whago.waitForExit() == 0)
            } }
        }

        @Test("SIGKILL of whago and its worker: after the restart the chip is WORKING again without a scan")
        func pairedChipComesBack() async throws {
            try await withDaemon { settings in
                var whago = try await settings.start()
                let api = settings.api
                let key = try #require(try await api.call(.post, "/api/v1/tenants", key: api.admin, json: ["name": "durable"]).json["apiKey"]?.stringValue)
                let id = try #require(try await api.call(.post, "/api/v1/chips", key: key, json: ["name": "paired"]).json["id"]?.stringValue)
                try await api.waitForStatus(id, key: key, "SCAN_QR_CODE")
                let value = try #require(try await api.call(.get, "/api/v1/chips/\(id)/qr?format=raw", key: key).json["value"]?.stringValue)
                let scan = try await ChildProcess.run(WhagoBinary.path, ["waha-sim", "scan", value])
                #expect(scan.status == 0, "\(scan.stderr)")
                try await api.waitForStatus(id, key: key, "WORKING")

                whago.signal(SIGKILL)
                _ = try await whago.waitForExit()
                try await settings.killWorkers()
                let killedAt = Date()

                whago = try await settings.start()
                // The worker is started again on its port with its data, and the session is paired still.
                let deadline = ContinuousClock.now + .seconds(60)
                var statuses: [String] = []
                while true {
                    let status = try await api.call(.get, "/api/v1/chips/\(id)", key: key).json["status"]?.stringValue ?? "?"
                    if statuses.last != status { statuses.append(status) }
                    // Back: the log has the chip's way to WORKING again, after the kill.
                    let events = try await api.call(.get, "/api/v1/events?limit=500", key: key).json["events"]?.arrayValue ?? []
                    let again = events.contains { event in
                        event["type"] == "chip.status" && event["data"]?["status"] == "WORKING"
                            && (event["occurredAt"]?.stringValue.flatMap { try? Date($0, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true)) }
                                .map { $0 > killedAt } ?? false)
                    }
                    if status == "WORKING", again { break }
                    guard ContinuousClock.now < deadline else { Issue.record("the chip never came back: \(statuses)"); break }
                    try await Task.sleep(for: .milliseconds(100))
                }
                #expect(!statuses.contains("SCAN_QR_CODE"), "no new scan was asked for: \(statuses)")
                let workers = try #require(try await api.call(.get, "/api/v1/workers", key: api.admin).json["workers"]?.arrayValue)
                #expect(workers.count == 1, "no duplicate worker")
                let sent = try await api.call(.post, "/api/v1/chips/\(id)/messages", key: key, json: ["chatId": "5511999999999@c.us", "text": "back"])
                #expect(sent.status == 201)
                #expect(sent.json["status"] == "sent", "the restarted worker's session sends: \(sent.text)")
                whago.signal(SIGTERM)
                #expect(try await whago.waitForExit() == 0)
            }
        }
    }
}
