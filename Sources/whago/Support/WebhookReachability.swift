import Logging
import WhagoCore

/// Whether workers can reach whago's webhook receiver: asked of the selected runtime, built
/// without connecting to anything.
enum WebhookReachability {
    static func warning(for config: WhagoConfig) async -> String? {
        var logger = Logger(label: "whago.check")
        logger.logLevel = .critical
        let context = DriverContext(instance: InstanceID("check"), dataDirectory: config.server.dataDir, logger: logger)
        guard let runtime = try? await config.runtime.make(context) else { return nil }
        defer { Task { await runtime.shutdown() } }
        return runtime.webhookReachability(publicURL: config.server.publicURL, listen: config.server.listen)
    }
}
