import Foundation

/// One placement constraint in Swarm's syntax (`node.labels.zone == eu`, `node.role != manager`),
/// evaluated by whago as Swarm's scheduler does (values compared without regard to case; a node
/// without the attribute has the empty value), so that whago only chooses nodes Swarm would.
struct SwarmConstraint: Sendable, Hashable {
    /// The node attribute (`node.labels.zone`).
    var key: String
    /// `==` (true) or `!=` (false).
    var equal: Bool
    var value: String

    /// The attributes Swarm's constraints may name.
    static let keys = ["node.id", "node.hostname", "node.role", "node.platform.os", "node.platform.arch"]
    static let prefixes = ["node.labels.", "engine.labels."]

    /// Parses `key==value` or `key!=value` (spaces allowed around the operator); nil when it is not one.
    init?(_ text: String) {
        let (operatorText, equal) = text.contains("!=") ? ("!=", false) : ("==", true)
        let parts = text.components(separatedBy: operatorText)
        guard parts.count == 2 else { return nil }
        let key = parts[0].trimmingCharacters(in: .whitespaces)
        let value = parts[1].trimmingCharacters(in: .whitespaces)
        guard Self.isAttribute(key), !value.isEmpty else { return nil }
        self.key = key
        self.equal = equal
        self.value = value
    }

    /// Whether `key` is an attribute Swarm's constraints and spread preferences may name.
    static func isAttribute(_ key: String) -> Bool {
        keys.contains(key) || prefixes.contains { key.hasPrefix($0) && key.count > $0.count }
    }

    /// As Swarm reads it: `key==value`.
    var description: String { "\(key)\(equal ? "==" : "!=")\(value)" }

    /// Pins a task to one node.
    static func node(_ id: String) -> SwarmConstraint {
        SwarmConstraint(key: "node.id", equal: true, value: id)
    }

    init(key: String, equal: Bool, value: String) {
        self.key = key
        self.equal = equal
        self.value = value
    }

    /// Whether the node meets the constraint.
    func admits(_ node: NodeSummary) -> Bool {
        (node.attribute(key).caseInsensitiveCompare(value) == .orderedSame) == equal
    }
}
