import Foundation
import Logging
import ServiceLifecycle
import WhagoCore

/// Prunes the store's event log (delivered and dead-lettered events, settled messages) older than
/// `store.eventRetention`, once at start and then every `interval`, until graceful shutdown (or
/// cancellation: when another service of the group fails, the group is cancelled). Every replica
/// prunes: the same batch twice removes nothing more.
struct EventRetention: Service {
    let store: any Store
    let retention: Duration
    let interval: Duration
    let logger: Logger

    func run() async throws {
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            do {
                try await store.apply(.pruneEvents(before: Date().addingTimeInterval(-retention.seconds)))
            } catch {
                logger.warning("pruning the event log failed; trying again later", metadata: ["error": "\(error)"])
            }
            // Returns early (cancelled) on graceful shutdown.
            try? await gracefulShutdownAwareSleep(interval)
        }
    }

    private func gracefulShutdownAwareSleep(_ duration: Duration) async throws {
        try await cancelWhenGracefulShutdown { try await Task.sleep(for: duration) }
    }
}
