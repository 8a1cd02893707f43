import CurlHTTP
import Foundation
import LocalProcessRuntime
import Synchronization
import Testing
import WhagoCore
import WhagoTesting

extension OrchestratorScenarios {
    /// Several `whago serve` processes on one PostgreSQL: all serve the API, one leads the loops.
    @Suite("whago serve replicas on one PostgreSQL", .timeLimit(.minutes(10)))
    struct ReplicaTests {
        /// Replicas of one installation: one store schema, instance, master key and admin token,
        /// one workers' directory (they share the host), each its own data directory and port.
        final class Cluster: Sendable {
            let directory: TemporaryDirectory
            let url: String
            let schema = "r_" + UUID().uuidString.prefix(12).lowercased().replacingOccurrences(of: "-", with: "")
            let instance = "replicas-" + UUID().uuidString.prefix(8).lowercased()
            let token = "admin-" + UUID().uuidString
            let ports: [Int]
            let workerPorts: ClosedRange<Int>
            let processes: Mutex<[Int: ChildProcess]> = Mutex([:])
            /// The replicas that are up (none is being killed or started).
            let alive: Mutex<Set<Int>> = Mutex([])

            let tokenFile: String
            let keyFile: String

            init(replicas: Int, url: String) throws {
                directory = try TemporaryDirectory("replicas")
                self.url = url
                ports = try (0..<replicas).map { _ in try freePort() }
                workerPorts = try freePortRange(count: 12)
                tokenFile = try directory.write("admin-token", token)
                keyFile = try directory.write("master-key", "replicas-master-key-0123456789abcdef")
            }

            func api(_ replica: Int) -> APIClient { APIClient(base: "http://127.0.0.1:\(ports[replica])", admin: token) }
            var workDirectory: String { directory.file("workers") }

            func start(_ replica: Int) async throws {
                let process = try ChildProcess(WhagoBinary.path, [
                    "serve", "--set", "server.dataDir=\(directory.path)/data-\(replica)", "--set", "server.listen=127.0.0.1:\(ports[replica])",
                    "--set", "server.adminToken=file:\(tokenFile)", "--set", "server.masterKey=file:\(keyFile)", "--set", "server.instance=\(instance)",
                    "--set", "store.driver=postgres", "--set", "store.postgres.url=\(url)", "--set", "store.postgres.schema=\(schema)",
                    "--set", "runtime.local.workDir=\(workDirectory)",
                    "--set", "runtime.local.ports=\(workerPorts.lowerBound)-\(workerPorts.upperBound)",
                    "--set", "sessions.waha-plus.sessionsPerWorker=3",
                ] + quickServeSettings(apiRequestsPerSecond: 500))
                try await process.waitForOutput(containing: "listening on 127.0.0.1:\(ports[replica])", timeout: .seconds(60))
                processes.withLock { $0[replica] = process }
                alive.withLock { _ = $0.insert(replica) }
            }

            func kill(_ replica: Int) async throws {
                alive.withLock { _ = $0.remove(replica) }
                guard let process = processes.withLock({ $0.removeValue(forKey: replica) }) else { return }
                process.signal(SIGKILL)
                _ = try await process.waitForExit()
            }

            /// The replicas that say they lead now.
            func leaders() async -> [Int] {
                var found: [Int] = []
                for replica in alive.withLock({ $0 }).sorted() {
                    if let answer = try? await api(replica).call(.get, "/readyz"), answer.json["leader"] == .bool(true) { found.append(replica) }
                }
                return found
            }

            /// Waits for exactly one leader among the live replicas; returns it.
            func waitForLeader(timeout: Duration = .seconds(30)) async throws -> Int {
                let deadline = ContinuousClock.now + timeout
                while true {
                    let leaders = await leaders()
                    if leaders.count == 1 { return leaders[0] }
                    guard ContinuousClock.now < deadline else { throw WhagoError(.timedOut, "no single leader within \(timeout): \(leaders)") }
                    try await Task.sleep(for: .milliseconds(50))
                }
            }

            func stopAll() async throws -> [Int32] {
                var statuses: [Int32] = []
                for (_, process) in processes.withLock({ $0 }) {
                    process.signal(SIGTERM)
                    statuses.append(try await process.waitForExit())
                }
                return statuses
            }

            func removeWorkers() async {
                let runtime = LocalProcessRuntime(command: [WhagoBinary.path, "waha-sim"], workDirectory: workDirectory, restart: "never",
                                                  ports: try! PortRange(workerPorts.lowerBound, workerPorts.upperBound), stopGrace: .seconds(2))
                for handle in (try? await runtime.list(labels: [:])) ?? [] {
                    try? await runtime.remove(handle)
                }
                await runtime.shutdown()
            }
        }

        @Test("the leader SIGKILLed 10 times during a provisioning burst: every acknowledged chip exists once, one worker per slot, the survivors answer throughout (errors only 503 with Retry-After), every event delivered",
              .enabled(if: TestServices.postgresURL != nil || TestServices.required), arguments: [2, 3])
        func leaderKilledDuringBurst(replicas: Int) async throws {
            let url = try #require(TestServices.postgresURL, Comment(rawValue: TestServices.missing("PostgreSQL")))
            let cluster = try Cluster(replicas: replicas, url: url)
            defer { cluster.directory.remove() }
            try await withTenantReceiver { hooks in
                do {
                    try await run(cluster, hooks: hooks)
                } catch {
                    _ = try? await cluster.stopAll()
                    await cluster.removeWorkers()
                    throw error
                }
                await cluster.removeWorkers()
            }
        }

        private func run(_ cluster: Cluster, hooks: TenantReceiver) async throws {
            for replica in cluster.ports.indices { try await cluster.start(replica) }
            _ = try await cluster.waitForLeader()
            var created: [String] = []
            for name in ["north", "south", "east"] {
                let tenant = try await cluster.api(0).call(.post, "/api/v1/tenants", key: cluster.token,
                                                           json: ["name": .string(name), "webhook": ["url": .string(hooks.url)]])
                created.append(try #require(tenant.json["apiKey"]?.stringValue))
            }
            let keys = created
            let killing = Shared(true)
            let unexpected = Shared<[String]>([])

            // The survivors answer throughout: any answer but 200, or 503 with Retry-After, is wrong.
            let watcher = Task {
                while killing.value {
                    for replica in cluster.alive.withLock({ $0 }).sorted() {
                        do {
                            let answer = try await cluster.api(replica).call(.get, "/api/v1/chips", key: keys[0])
                            if answer.status != 200, !(answer.status == 503 && answer.header("Retry-After") != nil) {
                                unexpected.update { $0.append("replica \(replica): \(answer.status) \(answer.text)") }
                            }
                        } catch where cluster.alive.withLock({ $0.contains(replica) }) {
                            unexpected.update { $0.append("replica \(replica) did not answer: \(error)") }
                        } catch {}
                    }
                    try? await Task.sleep(for: .milliseconds(100))
                }
            }

            // Ten rounds. Each creates chips on the leader, SIGKILLs the leader while they are still
            // being provisioned (its work in flight), and creates one more chip on a survivor during
            // the failover; the killed replica is started again before the next round.
            var acknowledged: [String: Set<String>] = [:]  // key → chip ids
            var kills: [ContinuousClock.Instant] = []
            var killsDuringWork = 0
            var restarting: Task<Void, any Error>?
            for round in 0..<10 {
                try await restarting?.value
                let leader = try await cluster.waitForLeader()
                let name = "chip-\(round)"
                let late = round % keys.count
                let early = try await withThrowingTaskGroup(of: (String, String?).self) { group in
                    for (index, key) in keys.enumerated() where index != late {
                        group.addTask { (key, try await Self.create(name, key: key, tenant: index, first: leader, in: cluster)) }
                    }
                    return try await group.reduce(into: [(String, String?)]()) { $0.append($1) }
                }
                for case let (key, id?) in early { acknowledged[key, default: []].insert(id) }
                var provisioning = 0
                for case let (key, id?) in early {
                    let status = try await cluster.api(leader).call(.get, "/api/v1/chips/\(id)", key: key).json["status"]?.stringValue
                    if status == "PROVISIONING" || status == "STARTING" { provisioning += 1 }
                }
                kills.append(.now)
                try await cluster.kill(leader)
                if provisioning > 0 { killsDuringWork += 1 }
                restarting = Task {
                    _ = try await cluster.waitForLeader()
                    try await cluster.start(leader)
                }
                let survivor = cluster.alive.withLock { $0.min() } ?? leader
                if let id = try await Self.create(name, key: keys[late], tenant: late, first: survivor, in: cluster) {
                    acknowledged[keys[late], default: []].insert(id)
                }
            }
            try await restarting?.value
            killing.value = false
            await watcher.value
            #expect(unexpected.value.isEmpty, "\(unexpected.value)")
            #expect(kills.count == 10)
            #expect(killsDuringWork == 10, "every kill landed while chips it had taken were still being provisioned: \(killsDuringWork) of 10")

            // Every acknowledged chip exists once, and is provisioned.
            let api = cluster.api(cluster.alive.withLock { $0.min() } ?? 0)
            for key in keys {
                let listed = try #require(try await api.call(.get, "/api/v1/chips?limit=100", key: key).json["chips"]?.arrayValue)
                #expect(Set(listed.compactMap { $0["id"]?.stringValue }) == acknowledged[key] ?? [], "the tenant's chips are the acknowledged ones")
                #expect(Set(listed.compactMap { $0["name"]?.stringValue }).count == listed.count, "no name twice")
                for id in acknowledged[key] ?? [] { try await api.waitForStatus(id, key: key, "SCAN_QR_CODE", timeout: .seconds(120)) }
            }
            // One worker per slot: each worker within its capacity, on a port of its own, one process each.
            let workers = try #require(try await api.call(.get, "/api/v1/workers", key: cluster.token).json["workers"]?.arrayValue)
            #expect(workers.allSatisfy { ($0["chips"]?.numberValue ?? 99) <= 3 }, "\(workers)")
            let ports = workers.compactMap { $0["port"]?.numberValue }
            #expect(Set(ports).count == ports.count, "no port twice")
            #expect(workers.count == 12, "3 tenants x 10 chips at 3 per worker: 4 workers each, not one more")
            let processes = Self.workerProcesses(in: cluster.workDirectory)
            #expect(processes.count == workers.count && processes.values.allSatisfy { $0 == 1 }, "one process per worker: \(processes)")

            // Every event in the log reached the tenant's webhook; a repeat only after the dead leader's claim ran out.
            for key in keys {
                let logged = try await Self.eventIDs(api, key: key)
                #expect(!logged.isEmpty)
                try await hooks.waitFor("every logged event", timeout: .seconds(60)) { _ in
                    Set(hooks.deliveries.compactMap { $0.json["id"]?.stringValue }).isSuperset(of: logged)
                }
            }
            // A repeat only when the replica that claimed it was killed between the two deliveries
            // (its claim ran out and the next leader delivered again), never within one claim.
            let byEvent = Dictionary(grouping: hooks.deliveries) { $0.json["id"]?.stringValue ?? "" }
            for (id, deliveries) in byEvent where deliveries.count > 1 {
                let times = deliveries.map(\.receivedAt).sorted()
                #expect(zip(times, times.dropFirst()).allSatisfy { first, next in kills.contains { first < $0 && $0 < next } },
                        "event \(id) delivered again with no kill in between")
            }
            let deadLetters = try #require(try await api.call(.get, "/api/v1/dead-letters", key: cluster.token).json["deadLetters"]?.arrayValue)
            #expect(deadLetters.isEmpty, "\(deadLetters)")
            #expect(try await cluster.stopAll().allSatisfy { $0 == 0 }, "every replica stops cleanly on SIGTERM")
        }

        /// Creates chip `name` for the tenant of `key`: first on replica `first`, then, after a 503 or
        /// an answer lost with a killed replica, on the live ones in turn. Returns its id, or nil (with an
        /// issue recorded) when it could not be created.
        static func create(_ name: String, key: String, tenant index: Int, first: Int, in cluster: Cluster) async throws -> String? {
            var attempts = 0
            while true {
                // After the first, the live replicas in turn (not at random: a failure can be replayed).
                let alive = cluster.alive.withLock { $0.sorted() }
                let replica = attempts == 0 || alive.isEmpty ? first : alive[attempts % alive.count]
                attempts += 1
                let answer = try? await cluster.api(replica).call(.post, "/api/v1/chips", key: key, json: ["name": .string(name)])
                if let answer, answer.status == 201, let id = answer.json["id"]?.stringValue { return id }
                if let answer, answer.status == 409, answer.json["error"]?["code"] == "conflict", attempts > 1 {
                    // Created by an attempt whose answer was lost with its replica: it is there once.
                    let listed = try await cluster.api(cluster.alive.withLock { $0.min() } ?? 0).call(.get, "/api/v1/chips?limit=100", key: key)
                    if let id = listed.json["chips"]?.arrayValue?.first(where: { $0["name"]?.stringValue == name })?["id"]?.stringValue {
                        return id
                    }
                }
                if let answer, answer.status != 503 {
                    Issue.record("creating \(name) for tenant \(index) on replica \(replica): \(answer.status) \(answer.text)")
                    return nil
                }
                guard attempts < 200 else {
                    Issue.record("creating \(name) for tenant \(index) never succeeded")
                    return nil
                }
                // A client's pause before it tries again (not a synchronisation: any pause works).
                try await Task.sleep(for: .milliseconds(100))
            }
        }

        /// A value the test's tasks share.
        final class Shared<Value: Sendable>: Sendable {
            private let storage: Mutex<Value>
            init(_ value: Value) { storage = Mutex(value) }
            var value: Value {
                get { storage.withLock { $0 } }
                set { storage.withLock { $0 = newValue } }
            }
            func update(_ change: (inout Value) -> Void) { storage.withLock { change(&$0) } }
        }

        /// Every event id of the tenant's log.
        static func eventIDs(_ api: APIClient, key: String) async throws -> Set<String> {
            var ids = Set<String>()
            var after: String?
            while true {
                let page = try await api.call(.get, "/api/v1/events?limit=500" + (after.map { "&after=\($0)" } ?? ""), key: key)
                let events = page.json["events"]?.arrayValue ?? []
                ids.formUnion(events.compactMap { $0["id"]?.stringValue })
                guard !events.isEmpty, let next = page.json["next"]?.stringValue else { return ids }
                after = next
            }
        }

        /// Live worker processes under `directory`, by worker directory.
        static func workerProcesses(in directory: String) -> [String: Int] {
            var found: [String: Int] = [:]
            for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] where Int32(entry) != nil {
                guard let environ = FileManager.default.contents(atPath: "/proc/\(entry)/environ"),
                      let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                      let close = stat.lastIndex(of: ")"), stat[stat.index(after: close)...].split(separator: " ").first != "Z" else { continue }
                for variable in environ.split(separator: 0) {
                    let text = String(decoding: variable, as: UTF8.self)
                    if text.hasPrefix("WHAGO_WORKER_DIR=\(directory)/") { found[String(text.dropFirst("WHAGO_WORKER_DIR=".count)), default: 0] += 1 }
                }
            }
            return found
        }
    }
}
