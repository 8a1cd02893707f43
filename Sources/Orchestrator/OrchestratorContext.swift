import Foundation
import Logging
import WhagoCore

/// What every part of the orchestrator works with: the four drivers, the settings, the installation.
struct OrchestratorContext: Sendable {
    let runtime: any ContainerRuntime
    let sessions: any SessionProvider
    let proxy: any ProxyProvider
    let store: any Store
    /// What the proxy driver sees of the store: the leases.
    var proxyLeases: any ProxyLeaseStore { StoreProxyLeases(store) }
    let instance: InstanceID
    /// The base URL workers send their webhooks to (`<publicURL>/hooks/waha/<worker>`).
    let publicURL: URL
    let limits: LimitsConfig
    let settings: OrchestratorConfig
    let logger: Logger
    let counters: OrchestratorCounters

    /// The labels every worker of this installation carries.
    func labels(of worker: Worker) -> [String: String] {
        var labels = [WorkerLabel.instance: instance.rawValue, WorkerLabel.tenant: worker.tenant.rawValue, WorkerLabel.worker: worker.id.rawValue,
                      WorkerLabel.port: "\(worker.port)"]
        if runtime.placesWorkersOnSeveralHosts { labels[WorkerLabel.node] = worker.host }
        return labels
    }

    /// The runtime's handle of a worker record (the name is the idempotency key; the id, when known, is faster).
    func handle(of worker: Worker) -> WorkerHandle {
        WorkerHandle(runtimeID: worker.runtimeID ?? worker.name, name: worker.name, labels: labels(of: worker))
    }

    /// How whago reaches the worker's API.
    func endpoint(of worker: Worker) -> WorkerEndpoint { WorkerEndpoint(worker) }

    /// Where the worker sends its webhooks, and the key it signs them with.
    func webhook(of worker: Worker) -> WebhookTarget {
        WebhookTarget(url: publicURL.appendingPathComponent("hooks/waha/\(worker.id.rawValue)"), secret: worker.webhookSecret)
    }

    /// The runtime's launch request for a worker record: the same record always gives the same spec,
    /// so a worker re-created after a crash is the one it replaces (same name, port, node and volume).
    func spec(of worker: Worker) -> WorkerSpec {
        let template = sessions.workerTemplate(WorkerContext(worker: worker.id, tenant: worker.tenant, hostPort: worker.port,
                                                             apiKey: worker.apiKey, webhookURL: webhook(of: worker).url))
        return WorkerSpec(name: worker.name, image: template.image, command: template.command, environment: template.environment,
                          labels: labels(of: worker), hostPort: worker.port, containerPort: template.internalPort,
                          volume: VolumeMount(name: worker.name, mountPath: template.dataPath), healthPath: template.healthPath,
                          node: node(of: worker))
    }

    /// The node the worker's port is leased on, when the runtime places workers on several.
    func node(of worker: Worker) -> RuntimeNode? {
        guard runtime.placesWorkersOnSeveralHosts else { return nil }
        return RuntimeNode(id: worker.host, name: worker.host, address: worker.address ?? worker.host)
    }

    /// The proxy hints a chip was created with.
    func hints(of chip: Chip) -> ProxyHints {
        ProxyHints(country: chip.metadata[ChipMetadata.country], city: chip.metadata[ChipMetadata.city], tenant: chip.tenant,
                   schemes: sessions.proxySchemes)
    }
}

extension Chip {
    /// Records the paired account's profile name, cleaned (a worker's text) and at most 64 characters.
    mutating func setPushName(_ name: String) {
        let clean = WorkerText.clean(name, limit: 64)
        metadata[ChipMetadata.pushName] = clean.isEmpty ? nil : clean
    }
}

/// Keys of ``Chip/metadata`` that whago itself sets.
public enum ChipMetadata {
    /// The proxy's country a chip was created with (ISO 3166-1 alpha-2).
    public static let country = "proxy.country"
    /// The proxy's city a chip was created with.
    public static let city = "proxy.city"
    /// The paired account's WhatsApp profile name (as its worker reported it, cleaned and bounded).
    public static let pushName = "whatsapp.pushName"
}
