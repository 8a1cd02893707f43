public import Foundation
import Synchronization
public import WhagoCore

/// A runtime double for the orchestrator's placement on several nodes: it runs nothing, records
/// each launch with the node its spec names, and offers `nodes` simulated nodes (`node-<i>`,
/// reached at `node-<i>.test.invalid`, never contacted). A test marks nodes lost (they take no new
/// workers, and a worker bound to one is reported `nodeLost`).
public final class SimulatedNodesRuntime: ContainerRuntime {
    /// One recorded launch.
    public struct Launch: Sendable, Hashable {
        public var handle: WorkerHandle
        public var node: RuntimeNode?
        public var hostPort: Int
    }

    let offered: [RuntimeNode]
    let ports: PortRange
    private let state = Mutex<(running: [String: Launch], lost: Set<String>, launches: Int, removals: Int)>(([:], [], 0, 0))

    /// - Parameters:
    ///   - nodes: how many nodes, or
    ///   - spread: each node's spread values (one node per element).
    public init(nodes: Int = 0, spread: [[String]] = [], ports: PortRange) {
        let count = spread.isEmpty ? nodes : spread.count
        offered = (0..<count).map { index in
            RuntimeNode(id: "node-\(index)", name: "node \(index)", address: "node-\(index).test.invalid",
                        spread: spread.isEmpty ? [] : spread[index])
        }
        self.ports = ports
    }

    public var workerPorts: WorkerPorts { WorkerPorts(host: "scheduler", range: ports, setting: "runtime.simulated.ports") }
    public var placesWorkersOnSeveralHosts: Bool { true }
    public func healthCheck() async -> HealthReport { .ok("simulated nodes") }
    public func ping() async throws -> RuntimeInfo { RuntimeInfo(driver: "simulated-nodes", version: "test") }

    public func nodes() async throws -> [RuntimeNode] {
        let lost = state.withLock { $0.lost }
        return offered.filter { !lost.contains($0.id) }
    }

    /// The node takes no workers from now on, and its workers are lost with it.
    public func lose(_ node: String) {
        state.withLock { _ = $0.lost.insert(node) }
    }

    /// The running workers, by name.
    public var running: [String: Launch] { state.withLock { $0.running } }
    /// How many launches created a worker, and how many removals removed one.
    public var counts: (launches: Int, removals: Int) { state.withLock { ($0.launches, $0.removals) } }

    public func launch(_ spec: WorkerSpec) async throws -> WorkerHandle {
        state.withLock { state in
            if let existing = state.running[spec.name] { return existing.handle }
            let handle = WorkerHandle(runtimeID: "svc-\(spec.name)-\(state.launches)", name: spec.name, labels: spec.labels)
            state.running[spec.name] = Launch(handle: handle, node: spec.node, hostPort: spec.hostPort)
            state.launches += 1
            return handle
        }
    }

    public func inspect(_ handle: WorkerHandle) async throws -> WorkerState? {
        state.withLock { state in
            guard let launch = state.running[handle.name] else { return nil }
            if let node = launch.node, state.lost.contains(node.id) { return WorkerState(status: .restarting, nodeLost: true) }
            return WorkerState(status: .running, address: launch.node?.address)
        }
    }

    public func stop(_ handle: WorkerHandle, grace: Duration) async throws {}
    public func remove(_ handle: WorkerHandle) async throws {
        state.withLock { state in
            if state.running.removeValue(forKey: handle.name) != nil { state.removals += 1 }
        }
    }
    public func list(labels: [String: String]) async throws -> [WorkerHandle] {
        state.withLock { $0.running.values.map(\.handle).filter { handle in labels.allSatisfy { handle.labels[$0.key] == $0.value } } }
    }
    public func events() -> AsyncThrowingStream<RuntimeEvent, any Error> { AsyncThrowingStream { _ in } }
}

/// Sessions that answer at once: every worker healthy, every session waiting for a scan.
public struct InstantSessions: SessionProvider {
    let perWorker: Int

    public init(perWorker: Int) { self.perWorker = perWorker }

    public var sessionsPerWorker: Int { perWorker }
    public func healthCheck() async -> HealthReport { .ok("instant sessions") }
    public func workerTemplate(_ context: WorkerContext) -> WorkerTemplate {
        WorkerTemplate(image: "test", environment: [:], internalPort: 3000, dataPath: "/data", healthPath: "/ping")
    }
    public func health(of worker: WorkerEndpoint, version: Bool) async throws -> WorkerHealth {
        WorkerHealth(reachable: true, version: version ? "instant" : nil)
    }
    public func ensureSession(_ chip: ChipSpec, on worker: WorkerEndpoint, proxy: ProxyEndpoint?, webhook: WebhookTarget) async throws {}
    public func sessions(on worker: WorkerEndpoint) async throws -> [ChipID] { [] }
    public func status(of chip: ChipID, on worker: WorkerEndpoint) async throws -> SessionStatus? { SessionStatus(status: .scanQRCode) }
    public func qrCode(of chip: ChipID, on worker: WorkerEndpoint, parts: QRCode.Parts) async throws -> QRCode {
        throw WhagoError(.notImplemented, "instant sessions have no QR codes")
    }
    public func requestPairingCode(for chip: ChipID, phoneNumber: String, on worker: WorkerEndpoint) async throws -> String {
        throw WhagoError(.notImplemented, "instant sessions have no pairing codes")
    }
    public func restart(_ chip: ChipID, on worker: WorkerEndpoint) async throws {}
    public func stop(_ chip: ChipID, on worker: WorkerEndpoint) async throws {}
    public func logout(_ chip: ChipID, on worker: WorkerEndpoint) async throws {}
    public func delete(_ chip: ChipID, on worker: WorkerEndpoint) async throws {}
    public func sendText(_ message: OutgoingText, from chip: ChipID, on worker: WorkerEndpoint) async throws -> SentMessage {
        SentMessage(messageID: nil)
    }
    public func decodeWebhook(body: [UInt8], headers: [String: String], secret: Secret, now: Date) throws -> [ChipEvent] { [] }
}
