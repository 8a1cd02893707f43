import DockerEngine
import Foundation
import Logging
@testable import SwarmRuntime
import Testing
import WhagoCore

/// The swarm driver's placement rules without a daemon: which nodes take workers, where they are
/// reached, and how a worker is pinned to the node whago chose.
@Suite("Swarm placement rules", .timeLimit(.minutes(1)))
struct SwarmPlacementRuleTests {
    private func node(_ json: String) throws -> NodeSummary {
        try JSONDecoder().decode(NodeSummary.self, from: Data(json.utf8))
    }

    private var ready: String {
        """
        {"ID": "n1", "Spec": {"Role": "worker", "Availability": "active", "Labels": {"zone": "EU-1", "whago": "true"}},
         "Description": {"Hostname": "box-1", "Platform": {"OS": "linux", "Architecture": "x86_64"}, "Engine": {"Labels": {"disk": "ssd"}}},
         "Status": {"State": "ready", "Addr": "10.0.0.11"}}
        """
    }

    @Test("constraints as Swarm evaluates them: == and != on every attribute, values without regard to case, a missing label is empty")
    func constraints() throws {
        let summary = try node(ready)
        let admitted = ["node.id==n1", "node.hostname == box-1", "node.role==worker", "node.platform.os==linux", "node.platform.arch==x86_64",
                        "node.labels.zone==eu-1", "node.labels.whago == true", "engine.labels.disk==SSD", "node.role!=manager",
                        "node.labels.missing!=x"]
        for text in admitted {
            let constraint = try #require(SwarmConstraint(text), "\(text) parses")
            #expect(constraint.admits(summary), "\(text)")
        }
        for text in ["node.id==n2", "node.role==manager", "node.labels.zone!=EU-1", "node.labels.missing==x", "engine.labels.disk==hdd"] {
            #expect(try #require(SwarmConstraint(text)).admits(summary) == false, "\(text)")
        }
        for bad in ["node.labels.whago = true", "node.colour==red", "node.labels.==x", "node.id==", "==x", "node.id==a==b"] {
            #expect(SwarmConstraint(bad) == nil, "\(bad) is refused")
        }
        #expect(SwarmConstraint("node.labels.zone != eu")?.description == "node.labels.zone!=eu")
    }

    @Test("a node takes workers when ready, active and meeting every constraint; it is reached at its whago.address label, else its address")
    func nodes() throws {
        var configuration = SwarmConfiguration()
        configuration.constraints = [try #require(SwarmConstraint("node.labels.whago==true"))]
        configuration.spread = ["node.labels.zone", "node.labels.rack"]
        configuration.host = "whago-fallback"
        let runtime = SwarmRuntime(configuration: configuration, instance: nil, logger: .init(label: "test"))
        let summary = try node(ready)
        #expect(runtime.admits(summary))
        let described = runtime.runtimeNode(summary)
        #expect(described == RuntimeNode(id: "n1", name: "box-1", address: "10.0.0.11", spread: ["EU-1", ""]))

        for (state, availability) in [("down", "active"), ("unknown", "active"), ("disconnected", "active"), ("ready", "drain"), ("ready", "pause")] {
            let other = try node(ready.replacingOccurrences(of: "\"ready\"", with: "\"\(state)\"")
                .replacingOccurrences(of: "\"active\"", with: "\"\(availability)\""))
            #expect(runtime.admits(other) == false, "\(state)/\(availability) takes no workers")
        }
        #expect(runtime.admits(try node(ready.replacingOccurrences(of: "\"whago\": \"true\"", with: "\"whago\": \"no\""))) == false)

        let labelled = try node(ready.replacingOccurrences(of: "\"zone\": \"EU-1\"", with: "\"zone\": \"EU-1\", \"whago.address\": \" 192.0.2.7 \""))
        #expect(runtime.address(of: labelled) == "192.0.2.7", "the label wins, trimmed")
        #expect(runtime.address(of: try node(ready.replacingOccurrences(of: "10.0.0.11", with: "0.0.0.0"))) == "whago-fallback")
    }

    @Test("a worker placed on a node: pinned there by node.id, told its address, probed there; no spread preference for a pinned task")
    func pinnedSpec() throws {
        var configuration = SwarmConfiguration()
        configuration.constraints = [try #require(SwarmConstraint("node.labels.whago==true"))]
        configuration.spread = ["node.labels.zone"]
        configuration.nodeAddressVariable = "WHATSAPP_API_HOSTNAME"
        configuration.healthCheck.command = ["probe", "http://{address}:{port}{path}"]
        let node = RuntimeNode(id: "n1", name: "box-1", address: "10.0.0.11")
        let spec = WorkerSpec(name: "whago-w1", image: "waha", environment: ["A": "1"], labels: ["whago.node": "n1"], hostPort: 3105,
                              containerPort: 3000, healthPath: "/ping", node: node)
        let body = try JSONSerialization.jsonObject(with: JSONEncoder().encode(ServiceSpecBody(spec, configuration))) as? [String: Any]
        let template = try #require(body?["TaskTemplate"] as? [String: Any])
        let placement = try #require(template["Placement"] as? [String: Any])
        #expect(placement["Constraints"] as? [String] == ["node.labels.whago==true", "node.id==n1"])
        #expect(placement["Preferences"] == nil)
        let container = try #require(template["ContainerSpec"] as? [String: Any])
        let environment = Set(container["Env"] as? [String] ?? [])
        #expect(environment.isSuperset(of: ["A=1", "PORT=3105", "WHATSAPP_API_HOSTNAME=10.0.0.11"]))
        #expect((container["Healthcheck"] as? [String: Any])?["Test"] as? [String] == ["CMD", "probe", "http://10.0.0.11:3105/ping"])

        // Not placed by whago (the conformance suite's workers): Swarm spreads them.
        var free = spec
        free.node = nil
        let unpinned = try JSONSerialization.jsonObject(with: JSONEncoder().encode(ServiceSpecBody(free, configuration))) as? [String: Any]
        let unpinnedTemplate = try #require(unpinned?["TaskTemplate"] as? [String: Any])
        let unpinnedPlacement = try #require(unpinnedTemplate["Placement"] as? [String: Any])
        #expect(unpinnedPlacement["Constraints"] as? [String] == ["node.labels.whago==true"])
        #expect((unpinnedPlacement["Preferences"] as? [Any])?.count == 1)
        let unpinnedEnvironment = (unpinnedTemplate["ContainerSpec"] as? [String: Any])?["Env"] as? [String] ?? []
        #expect(!unpinnedEnvironment.contains { $0.hasPrefix("WHATSAPP_API_HOSTNAME=") })
    }
}
