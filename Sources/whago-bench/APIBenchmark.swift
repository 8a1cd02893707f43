import Crypto
import Foundation
import Orchestrator
import WhagoCore
import WhagoRig
import WhagoTesting

/// `whago-bench api [--duration S] [--connections C]`: whago's HTTP face under `wrk`, in one server
/// (release build, file store, local runtime with the simulator): `GET /healthz` (the framework's
/// floor), `GET /api/v1/chips` for a tenant with 10 chips, and the ingest of signed
/// `session.status` webhooks (each a real status change of a chip). Prints requests/s and p99 of
/// each, the ratios, and the webhook events applied per second. Targets: chips list >= 0.5x the
/// /healthz rate; ingest >= 5,000 events/s.
enum APIBenchmark {
    static func run(_ arguments: [String]) async throws {
        var options = arguments[...]
        var duration = 10, connections = 32
        while let option = options.popFirst() {
            switch option {
            case "--duration": duration = Int(options.popFirst() ?? "") ?? duration
            case "--connections": connections = Int(options.popFirst() ?? "") ?? connections
            default:
                print("unknown option \(option)")
                exit(2)
            }
        }
        let directory = try TemporaryDirectory("bench-api")
        defer { directory.remove() }
        let range = try freePortRange(count: 12)
        // The API's own limits are the subject here, not the tenant's: rate limit and pacing off.
        let limits = LimitsConfig(chipsPerTenant: 10, apiRequestsPerSecond: 10_000_000, apiBurst: 10_000_000)
        let rig = try await OrchestratorRig.start(OrchestratorRig.Options(
            directory: directory.path, ports: try PortRange(range.lowerBound, range.upperBound), sessionsPerWorker: 10,
            settings: OrchestratorConfig(healthInterval: .seconds(15), workerStartTimeout: .seconds(120)), limits: limits,
            api: OrchestratorRig.APIOptions()))
        let base = rig.apiURL!
        let (tenant, key) = try await rig.orchestrator.tenants.create(TenantService.Settings(name: "bench"))
        var chips: [ChipID] = []
        for index in 0..<10 {
            chips.append(try await rig.orchestrator.chips.create(ChipService.Request(name: "chip \(index)"), for: tenant.id).id)
        }
        for chip in chips { try await rig.waitForStatus(chip, .scanQRCode, timeout: .seconds(120)) }

        let healthz = try await wrk(base + "/healthz", duration: duration, connections: connections)
        let list = try await wrk(base + "/api/v1/chips", headers: ["Authorization: Bearer \(key)"], duration: duration, connections: connections)

        // Signed webhooks from 10 workers (10 tenants x 10 chips), every one a status change
        // (STARTING and SCAN_QR_CODE by turns, later each time).
        for index in 1..<10 {
            let other = try await rig.orchestrator.tenants.create(TenantService.Settings(name: "bench \(index)")).tenant.id
            for number in 0..<10 {
                let chip = try await rig.orchestrator.chips.create(ChipService.Request(name: "chip \(number)"), for: other).id
                try await rig.waitForStatus(chip, .scanQRCode, timeout: .seconds(120))
            }
        }
        var placed: [(worker: Worker, chips: [ChipID])] = []
        for worker in try await rig.store.workers() {
            placed.append((worker, try await rig.store.chips(on: worker.id).map(\.id)))
        }
        let script = directory.file("webhooks.lua")
        let count = max(20_000, duration * 12_000)
        try webhookScript(placed: placed, count: count).write(toFile: script, atomically: true, encoding: .utf8)
        let appliedBefore = rig.orchestrator.counters[.webhookEventsApplied] + rig.orchestrator.counters[.webhookEventsDuplicate]
        let ingestStarted = ContinuousClock.now
        let ingest = try await wrk(base + "/hooks/waha/", script: script, duration: duration, connections: connections)
        // The queue drains after wrk stops: the rate is every accepted webhook applied, over the
        // time from the first request until the last of them was applied. (Workers' own webhooks
        // count too; they are few.)
        let accepted = ingest.requests - ingest.non2xx
        var applied = 0
        let drainDeadline = ContinuousClock.now + .seconds(300)
        while ContinuousClock.now < drainDeadline {
            applied = rig.orchestrator.counters[.webhookEventsApplied] + rig.orchestrator.counters[.webhookEventsDuplicate] - appliedBefore
            if applied >= accepted { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        let ingestTime = ContinuousClock.now - ingestStarted
        let ingestSeconds = Double(ingestTime.components.seconds) + Double(ingestTime.components.attoseconds) / 1e18
        let appliedRate = Double(min(applied, accepted)) / ingestSeconds

        print(String(format: "api: GET /healthz          %9.0f req/s  p99 %7.2f ms", healthz.rate, healthz.p99))
        print(String(format: "api: GET /api/v1/chips     %9.0f req/s  p99 %7.2f ms  (10 chips; %.2fx /healthz, target >= 0.5)",
                     list.rate, list.p99, list.rate / healthz.rate))
        print(String(format: "api: POST /hooks/waha      %9.0f req/s  p99 %7.2f ms  (%d non-2xx: queue full)",
                     ingest.rate, ingest.p99, ingest.non2xx))
        print(String(format: "api: webhook events applied %8.0f /s  (%d accepted, applied within %.1f s; 100 chips on 10 workers, file store; target >= 5000)",
                     appliedRate, accepted, ingestSeconds))
        print(String(format: "ratio list_vs_healthz=%.3f ingest_accepted=%.0f ingest_applied=%.0f", list.rate / healthz.rate, ingest.rate, appliedRate))
        await rig.stop()
        await rig.removeWorkers()
    }

    struct WrkResult {
        var requests: Int
        var rate: Double
        var p99: Double
        var non2xx: Int
    }

    /// Runs wrk (2 threads) and reads its requests/s, 99th percentile latency (ms) and non-2xx count.
    static func wrk(_ url: String, headers: [String] = [], script: String? = nil, duration: Int, connections: Int) async throws -> WrkResult {
        var arguments = ["-t2", "-c\(connections)", "-d\(duration)s", "--latency"]
        for header in headers { arguments += ["-H", header] }
        if let script { arguments += ["-s", script] }
        let result = try await ChildProcess.run("/usr/bin/wrk", arguments + [url])
        guard result.status == 0 else { throw WhagoError(.internal, "wrk failed: \(result.stderr)") }
        let output = result.stdout
        func number(after label: String) -> String? {
            guard let line = output.split(separator: "\n").first(where: { $0.trimmingCharacters(in: .whitespaces).hasPrefix(label) }) else { return nil }
            return line.split(separator: " ", omittingEmptySubsequences: true).dropFirst(label.split(separator: " ").count).first.map(String.init)
        }
        let rate = Double(number(after: "Requests/sec:") ?? "0") ?? 0
        var p99 = 0.0
        if let text = number(after: "99%") {
            let value = Double(text.filter { $0.isNumber || $0 == "." }) ?? 0
            p99 = text.hasSuffix("us") ? value / 1000 : text.hasSuffix("ms") ? value : value * 1000
        }
        let non2xx = Int(number(after: "Non-2xx or 3xx responses:") ?? "0") ?? 0
        // "  123456 requests in 10.00s, 12.34MB read"
        let requests = output.split(separator: "\n").first { $0.contains(" requests in ") }
            .flatMap { Int($0.trimmingCharacters(in: .whitespaces).split(separator: " ").first ?? "") } ?? 0
        return WrkResult(requests: requests, rate: rate, p99: p99, non2xx: non2xx)
    }

    /// A wrk script POSTing `count` distinct signed webhooks, each from the worker its chip is on,
    /// the two threads taking turns.
    static func webhookScript(placed: [(worker: Worker, chips: [ChipID])], count: Int) -> String {
        let start = Int(Date().timeIntervalSince1970 * 1000)
        let pairs = placed.flatMap { entry in entry.chips.map { (entry.worker, $0) } }
        var bodies: [String] = [], signatures: [String] = [], paths: [String] = []
        bodies.reserveCapacity(count)
        for index in 0..<count {
            let (worker, chip) = pairs[index % pairs.count]
            let status = (index / pairs.count) % 2 == 0 ? "STARTING" : "SCAN_QR_CODE"
            let body = #"{"id":"bench-\#(index)","timestamp":\#(start + index),"event":"session.status","session":"\#(chip)","metadata":{"whago.chip":"\#(chip)"},"payload":{"status":"\#(status)"}}"#
            bodies.append(body)
            let key = SymmetricKey(data: Array(worker.webhookSecret.revealed.utf8))
            signatures.append(Hex.encode(HMAC<SHA512>.authenticationCode(for: Array(body.utf8), using: key)))
            paths.append("/hooks/waha/\(worker.id)")
        }
        return """
            local bodies = {\(bodies.map { "[==[\($0)]==]" }.joined(separator: ",\n"))}
            local signatures = {\(signatures.map { "\"\($0)\"" }.joined(separator: ",\n"))}
            local paths = {\(paths.map { "\"\($0)\"" }.joined(separator: ",\n"))}
            local counter = 0
            local threads = 0
            function setup(thread)
              thread:set("offset", threads)
              threads = threads + 1
            end
            function request()
              local index = (counter * 2 + offset) % #bodies + 1
              counter = counter + 1
              return wrk.format("POST", paths[index], {["Content-Type"] = "application/json", ["X-Webhook-Hmac"] = signatures[index],
                                                       ["X-Webhook-Hmac-Algorithm"] = "sha512"}, bodies[index])
            end
            """
    }
}
