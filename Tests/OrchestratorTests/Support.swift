import CurlHTTP
import Foundation
import Orchestrator
import Testing
import WhagoCore
import WhagoRig
import WhagoTesting

/// Every suite of this target, one at a time: each starts dozens of worker processes, and on a
/// two-core machine several at once starve the rest of the test run.
@Suite("The orchestrator", .serialized)
enum OrchestratorScenarios {}

/// The stores every scenario runs on.
enum StoreKind: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case file, postgres
    var testDescription: String { rawValue }

    /// The stores a scenario runs on here: PostgreSQL when the test PostgreSQL runs, and always
    /// under `scripts/test` or CI (where its absence is a failure); by hand without it, the file
    /// store alone.
    static var available: [StoreKind] { TestServices.postgresURL != nil || TestServices.required ? allCases : [.file] }
}

/// Runs `body` with a rig (see ``makeRig``), then stops the rig and removes its workers and
/// directory whether `body` threw or not.
func withRig(_ kind: StoreKind, ports: Int = 12, sessionsPerWorker: Int = 10, timeScale: Int = 1,
             settings: OrchestratorConfig = testSettings(), limits: LimitsConfig = LimitsConfig(),
             _ body: (OrchestratorRig) async throws -> Void) async throws {
    let (rig, directory) = try await makeRig(kind, ports: ports, sessionsPerWorker: sessionsPerWorker, timeScale: timeScale,
                                             settings: settings, limits: limits)
    do {
        try await body(rig)
    } catch {
        await tearDown(rig, directory)
        throw error
    }
    await tearDown(rig, directory)
}

/// A rig whose whago a test stops and starts again on the same directory, store and installation
/// (workers keep running in between).
final class RestartableRig: @unchecked Sendable {
    private(set) var current: OrchestratorRig
    private var stopped = false

    init(_ rig: OrchestratorRig) { current = rig }

    /// Stops whago as SIGTERM does.
    func stop() async {
        await current.stop()
        stopped = true
    }

    /// Starts a new whago on the same options.
    func start() async throws {
        current = try await OrchestratorRig.start(current.options)
        stopped = false
    }

    func tearDown(_ directory: TemporaryDirectory) async {
        if stopped, let restarted = try? await OrchestratorRig.start(current.options) { current = restarted }
        await OrchestratorTests.tearDown(current, directory)
    }
}

/// Runs `body` with a rig it may stop and start again, then tears the last one down.
func withRestartableRig(_ kind: StoreKind, ports: Int, _ body: (RestartableRig) async throws -> Void) async throws {
    let (rig, directory) = try await makeRig(kind, ports: ports)
    let holder = RestartableRig(rig)
    do {
        try await body(holder)
    } catch {
        await holder.tearDown(directory)
        throw error
    }
    await holder.tearDown(directory)
}

/// A rig in a temporary directory on a free port range, on the chosen store.
func makeRig(_ kind: StoreKind, ports: Int = 12, sessionsPerWorker: Int = 10, timeScale: Int = 1,
             settings: OrchestratorConfig = testSettings(), limits: LimitsConfig = LimitsConfig()) async throws -> (OrchestratorRig, TemporaryDirectory) {
    let directory = try TemporaryDirectory("orchestrator")
    let store = try storeChoice(kind, schemaPrefix: "o_")
    let range = try freePortRange(count: ports)
    let options = OrchestratorRig.Options(directory: directory.path, store: store, ports: try PortRange(range.lowerBound, range.upperBound),
                                          sessionsPerWorker: sessionsPerWorker, timeScale: timeScale, settings: settings, limits: limits)
    return (try await OrchestratorRig.start(options), directory)
}

/// The rig's store for `kind`: a file store, or a new schema on the test PostgreSQL.
func storeChoice(_ kind: StoreKind, schemaPrefix: String) throws -> OrchestratorRig.StoreChoice {
    switch kind {
    case .file:
        return .file
    case .postgres:
        let url = try #require(TestServices.postgresURL, Comment(rawValue: TestServices.missing("PostgreSQL")))
        return .postgres(url: url, schema: schemaPrefix + UUID().uuidString.prefix(12).lowercased().replacingOccurrences(of: "-", with: ""))
    }
}

/// Loops fast enough for a test; the rest at their defaults.
func testSettings(healthInterval: TimeSpan = .seconds(1), idleWorkerGrace: TimeSpan = .seconds(600), qrBudget: TimeSpan = .seconds(600),
                  failedRestarts: Int = 0) -> OrchestratorConfig {
    OrchestratorConfig(healthInterval: healthInterval, reconcileInterval: .seconds(5), idleWorkerGrace: idleWorkerGrace, qrBudget: qrBudget,
                       workerStartTimeout: .seconds(30), leaderLeaseTTL: .seconds(5), failedRestarts: failedRestarts,
                       failedRestartBackoff: .seconds(0))
}

/// A simulator control (`/_sim/…`) on the chip's worker.
func simulate(_ rig: OrchestratorRig, _ chip: Chip, _ path: String, _ body: String = "{}") async throws {
    let endpoint = rig.endpoint(of: try await workerOf(rig, chip))
    let request = HTTPClientRequest(.post, endpoint.baseURL.absoluteString + path,
                                    headers: [("Content-Type", "application/json"), ("X-Api-Key", endpoint.apiKey.revealed)], body: Array(body.utf8))
    let response = try await HTTPClient.shared.execute(request)
    #expect(response.status == 200, "\(path): \(String(decoding: response.body, as: UTF8.self))")
}

/// Stops the rig, removes its workers and its directory.
func tearDown(_ rig: OrchestratorRig, _ directory: TemporaryDirectory) async {
    await rig.stop()
    await rig.removeWorkers()
    directory.remove()
}

/// A tenant with its own chip limit.
func makeTenant(_ rig: OrchestratorRig, _ name: String, chipLimit: Int? = nil) async throws -> TenantID {
    try await rig.orchestrator.tenants.create(TenantService.Settings(name: name, chipLimit: chipLimit)).tenant.id
}

/// What the simulator's virtual phone does: scans the chip's current QR code.
func scan(_ rig: OrchestratorRig, _ chip: Chip, as tenant: TenantID) async throws {
    let qr = try await rig.orchestrator.chips.qrCode(chip.id, of: tenant)
    let value = try #require(qr.value, "the QR code carries its value")
    let worker = try await workerOf(rig, chip)
    let endpoint = rig.endpoint(of: worker)
    let request = HTTPClientRequest(.post, endpoint.baseURL.absoluteString + "/_sim/scan",
                                    headers: [("Content-Type", "application/json"), ("X-Api-Key", endpoint.apiKey.revealed)],
                                    body: Array(try JSONEncoder().encode(["qr": value])))
    let response = try await HTTPClient.shared.execute(request)
    #expect(response.status == 200, "the virtual phone's scan: \(String(decoding: response.body, as: UTF8.self))")
}

/// The `chip.status` statuses of a chip's events in log order.
func statusEvents(_ rig: OrchestratorRig, _ chip: ChipID, of tenant: TenantID) async throws -> [ChipStatus] {
    try await rig.store.events(of: tenant, after: 0, limit: 10_000).filter { $0.chip == chip && $0.event.kind == .statusChanged }.compactMap(\.event.status)
}

/// The worker a chip is placed on.
func workerOf(_ rig: OrchestratorRig, _ chip: Chip) async throws -> Worker {
    let id = try #require(chip.worker, "chip \(chip.id) is placed")
    return try #require(try await rig.store.worker(id), "worker \(id) exists")
}

/// `GET /_sim/starts` of a worker (the simulator): how many times this worker process started each
/// session. A session started on two workers, or twice on one, shows here.
func simulatorStarts(_ rig: OrchestratorRig, _ worker: Worker) async throws -> [String: Int] {
    let endpoint = rig.endpoint(of: try #require(try await rig.store.worker(worker.id)))
    let response = try await HTTPClient.shared.execute(HTTPClientRequest(
        .get, endpoint.baseURL.absoluteString + "/_sim/starts", headers: [("X-Api-Key", endpoint.apiKey.revealed)]))
    #expect(response.status == 200, "GET /_sim/starts of worker \(worker.id): \(response.status)")
    guard case .object(let counts)? = try? JSONDecoder().decode(JSONValue.self, from: Data(response.body)) else { return [:] }
    return counts.compactMapValues { $0.numberValue.map(Int.init) }
}

/// The session names a shared session database of simulators keeps (`waha_sim_sessions`).
func storedSimulatorSessions(_ database: String) async throws -> Set<String> {
    let rows = try await ChildProcess.run("/usr/bin/psql", [database, "-At", "-c", "SELECT name FROM waha_sim_sessions"])
    #expect(rows.status == 0, "\(rows.stderr)")
    return Set(rows.stdout.split(separator: "\n").map(String.init))
}
