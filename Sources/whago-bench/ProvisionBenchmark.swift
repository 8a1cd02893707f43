import CurlHTTP
import Foundation
import LocalProcessRuntime
import Orchestrator
import WhagoCore
import WhagoRig
import WhagoTesting

/// `whago-bench provision [--tenants N] [--chips M]`: N tenants x M chips (default 100 x 10, the
/// original system's ceiling: ports 3100-3199, 10 chips per user) through the orchestrator on the
/// local runtime with the simulator, until every chip is SCAN_QR_CODE with its QR code fetched;
/// then the baseline: the same N simulator processes started and the same N x M sessions created,
/// waited for and their QR codes fetched directly over WAHA's API, with no orchestrator. Prints
/// both times (the medians of `--rounds`, default 3, alternating), the ratio and this process's peak
/// RSS during the first orchestrated run.
enum ProvisionBenchmark {
    static func run(tenants: Int, chipsPerTenant: Int, rounds: Int) async throws {
        // Rounds alternate the two runs, and the medians are compared: on a small machine one run
        // varies by ±15% from the next.
        var orchestratedTimes: [Double] = [], baselineTimes: [Double] = []
        var rss = 0
        for round in 1...max(1, rounds) {
            orchestratedTimes.append(try await orchestratedRun(tenants: tenants, chipsPerTenant: chipsPerTenant))
            if round == 1 { rss = peakRSS() }
            baselineTimes.append(try await baselineRun(workers: tenants, sessionsPerWorker: chipsPerTenant))
            print(String(format: "round %d: orchestrated %.2f s, baseline %.2f s", round, orchestratedTimes.last!, baselineTimes.last!))
        }
        let orchestrated = median(orchestratedTimes), baseline = median(baselineTimes)
        let ratio = orchestrated / baseline
        print(String(format: "provision: %d tenants x %d chips, median of %d rounds: orchestrated %.2f s, baseline %.2f s, ratio %.2f (target <= 1.10)",
                     tenants, chipsPerTenant, orchestratedTimes.count, orchestrated, baseline, ratio))
        print(String(format: "provision: whago peak RSS %.1f MB (target <= 100 MB)", Double(rss) / 1_048_576))
        print(String(format: "ratio %.3f rss_mb %.1f", ratio, Double(rss) / 1_048_576))
    }

    /// Seconds from the first chip created to the last QR code fetched, through the orchestrator.
    static func orchestratedRun(tenants: Int, chipsPerTenant: Int) async throws -> Double {
        let directory = try TemporaryDirectory("bench-provision")
        defer { directory.remove() }
        let range = try freePortRange(count: tenants)
        let rig = try await OrchestratorRig.start(OrchestratorRig.Options(
            directory: directory.path, ports: try PortRange(range.lowerBound, range.upperBound), sessionsPerWorker: chipsPerTenant,
            settings: OrchestratorConfig(healthInterval: .seconds(15), workerStartTimeout: .seconds(120)),
            limits: LimitsConfig(chipsPerTenant: chipsPerTenant)))
        var owners: [TenantID] = []
        for index in 0..<tenants {
            owners.append(try await rig.orchestrator.tenants.create(TenantService.Settings(name: "bench \(index)")).tenant.id)
        }
        let ids = owners
        let started = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            // The tenants' requests, all at once.
            for (index, tenant) in ids.enumerated() {
                for number in 0..<chipsPerTenant {
                    group.addTask {
                        _ = try await rig.orchestrator.chips.create(ChipService.Request(name: "chip \(index)-\(number)"), for: tenant)
                    }
                }
            }
            // One watcher (as a tenant's event consumer would be) fetches each chip's QR code once it waits for a scan.
            group.addTask {
                var fetched = Set<ChipID>()
                let deadline = ContinuousClock.now + .seconds(600)
                while fetched.count < tenants * chipsPerTenant {
                    guard ContinuousClock.now < deadline else { throw BenchError("only \(fetched.count) chips waited for a scan") }
                    let ready = try await rig.store.allChips().filter { $0.status == .scanQRCode && !fetched.contains($0.id) }
                    try await withThrowingTaskGroup(of: Void.self) { fetches in
                        for chip in ready { fetches.addTask { _ = try await rig.orchestrator.chips.qrCode(chip.id, of: chip.tenant, parts: .image) } }
                        try await fetches.waitForAll()
                    }
                    fetched.formUnion(ready.map(\.id))
                    if ready.isEmpty { try await Task.sleep(for: .milliseconds(40)) }
                }
            }
            try await group.waitForAll()
        }
        let elapsed = ContinuousClock.now - started
        if ProcessInfo.processInfo.environment["WHAGO_BENCH_DETAIL"] != nil {
            let chips = try await rig.store.allChips()
            let first = chips.map(\.createdAt).min()!
            func seconds(_ values: [Date]) -> String {
                let sorted = values.map { $0.timeIntervalSince(first) }.sorted()
                return String(format: "p0 %.2f p50 %.2f p90 %.2f p100 %.2f", sorted.first!, sorted[sorted.count / 2], sorted[sorted.count * 9 / 10], sorted.last!)
            }
            print("created:   " + seconds(chips.map(\.createdAt)))
            print("scan:      " + seconds(chips.map(\.statusChangedAt)))
            let events = try await owners.asyncFlatMap { try await rig.store.events(of: $0, after: 0, limit: 100) }
            print("starting:  " + seconds(events.filter { $0.event.status == .starting }.map(\.event.occurredAt)))
            var usage = rusage()
            getrusage(RUSAGE_SELF.rawValue, &usage)
            print(String(format: "cpu: whago %.2f s user + %.2f s sys", Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6,
                         Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6))
        }
        await rig.stop()
        await rig.removeWorkers()
        return elapsed.seconds
    }

    /// The same work without an orchestrator: processes started, sessions created and polled, QR codes fetched.
    static func baselineRun(workers: Int, sessionsPerWorker: Int) async throws -> Double {
        let directory = try TemporaryDirectory("bench-baseline")
        defer { directory.remove() }
        let range = try freePortRange(count: workers)
        let runtime = LocalProcessRuntime(command: [WhagoBinary.path, "waha-sim"], workDirectory: directory.path, restart: "never")
        let key = "baseline-key"
        let started = ContinuousClock.now
        var handles: [WorkerHandle] = []
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (index, port) in range.enumerated() {
                group.addTask {
                    _ = try await runtime.launch(WorkerSpec(name: "baseline-\(index)", image: "", environment: ["WAHA_API_KEY": key, "WAHA_API_KEY_EXCLUDE_PATH": "ping,health"],
                                                            labels: ["bench": "baseline"], hostPort: port, containerPort: port))
                    let base = "http://127.0.0.1:\(port)"
                    let deadline = ContinuousClock.now + .seconds(120)
                    while (try? await HTTPClient.shared.execute(HTTPClientRequest(.get, base + "/ping", timeout: .seconds(2))))?.status != 200 {
                        guard ContinuousClock.now < deadline else { throw BenchError("the simulator at \(base) never answered /ping") }
                        try await Task.sleep(for: .milliseconds(50))
                    }
                    try await withThrowingTaskGroup(of: Void.self) { sessions in
                        for number in 0..<sessionsPerWorker {
                            sessions.addTask { try await session("s\(number)", at: base, key: key) }
                        }
                        try await sessions.waitForAll()
                    }
                }
            }
            try await group.waitForAll()
        }
        let elapsed = ContinuousClock.now - started
        handles = try await runtime.list(labels: ["bench": "baseline"])
        for handle in handles { try? await runtime.remove(handle) }
        await runtime.shutdown()
        return elapsed.seconds
    }

    /// Creates and starts a session, waits for SCAN_QR_CODE, fetches its QR code.
    private static func session(_ name: String, at base: String, key: String) async throws {
        let headers = [("Content-Type", "application/json"), ("X-Api-Key", key)]
        let create = try await HTTPClient.shared.execute(HTTPClientRequest(.post, base + "/api/sessions", headers: headers,
                                                                           body: Array(#"{"name":"\#(name)","start":true}"#.utf8)))
        guard (200...299).contains(create.status) else { throw BenchError("creating \(name) at \(base): \(create.status)") }
        let deadline = ContinuousClock.now + .seconds(600)
        while true {
            let status = try await HTTPClient.shared.execute(HTTPClientRequest(.get, base + "/api/sessions/\(name)", headers: headers))
            if String(decoding: status.body, as: UTF8.self).contains("\"SCAN_QR_CODE\"") { break }
            guard ContinuousClock.now < deadline else { throw BenchError("session \(name) at \(base) never waited for a scan") }
            try await Task.sleep(for: .milliseconds(25))
        }
        let qr = try await HTTPClient.shared.execute(HTTPClientRequest(.get, base + "/api/\(name)/auth/qr", headers: [("X-Api-Key", key)]))
        guard qr.status == 200 else { throw BenchError("QR of \(name) at \(base): \(qr.status)") }
    }

    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
    }

    /// This process's peak resident set size, in bytes (`VmHWM`).
    static func peakRSS() -> Int {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
              let kilobytes = Int(line.split(separator: " ").dropFirst().first ?? "") else { return 0 }
        return kilobytes * 1024
    }
}

extension Array where Element: Sendable {
    func asyncFlatMap<T>(_ transform: (Element) async throws -> [T]) async rethrows -> [T] {
        var results: [T] = []
        for element in self { results += try await transform(element) }
        return results
    }
}
