public import WhagoCore

extension DockerClient.Reply {
    /// The daemon's refusal as whago's error: 400 `invalid_config`, 404 `not_found`, 409
    /// `conflict`, anything else `unavailable`. The daemon's message is cleaned of control
    /// characters and bounded (it may quote what a worker wrote). `hint` is added to a 503 that
    /// mentions it (e.g. "swarm": a daemon that is not a Swarm manager).
    package func failure(_ what: String, unavailableHint hint: (word: String, advice: String)? = nil) -> WhagoError {
        let message = WorkerText.clean(message)
        switch status {
        case 400: return WhagoError(.invalidConfig, "the Docker daemon refused \(what): \(message)")
        case 404: return WhagoError(.notFound, "\(what): \(message)")
        case 409: return WhagoError(.conflict, "\(what): \(message)")
        case 503 where hint.map { message.contains($0.word) } ?? false:
            return WhagoError(.invalidConfig, "\(what): \(message) (\(hint!.advice))")
        default: return WhagoError(.unavailable, "the Docker daemon failed \(what) (\(status)): \(message)")
        }
    }
}

/// The labels whago puts on what it creates (`whago.*`); an image's own labels are not whago's.
package enum WhagoLabels {
    package static let prefix = "whago."

    /// Only whago's labels of `labels`.
    package static func of(_ labels: [String: String]) -> [String: String] {
        labels.filter { $0.key.hasPrefix(prefix) }
    }
}
