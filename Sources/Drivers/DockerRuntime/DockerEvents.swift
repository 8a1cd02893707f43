import CurlHTTP
import Foundation
import Logging
import WhagoCore
import DockerEngine

/// One subscription to `/events`: container events of whago's workers, from the moment of the
/// subscription on, surviving restarts of dockerd.
///
/// After a broken stream it reconnects (backing off up to 5 s) with `since=` the last event's time,
/// so nothing that Docker still remembers is lost, and skips what it already delivered.
struct DockerEvents: Sendable {
    let client: DockerClient
    let instance: String?
    let logger: Logger

    /// The longest a quiet events stream is kept open; it simply reconnects afterwards.
    private static let streamLifetime: Duration = .seconds(24 * 3600)

    func stream() -> AsyncThrowingStream<RuntimeEvent, any Error> {
        let (stream, continuation) = AsyncThrowingStream<RuntimeEvent, any Error>.makeStream()
        // Docker's seconds.nanoseconds: events from now on, even those that happen before the
        // connection is made.
        let subscribedAt = Date().timeIntervalSince1970
        let task = Task {
            await pump(since: String(format: "%.9f", subscribedAt), into: continuation)
        }
        continuation.onTermination = { _ in task.cancel() }
        return stream
    }

    private func pump(since initial: String, into continuation: AsyncThrowingStream<RuntimeEvent, any Error>.Continuation) async {
        var since = initial
        var lastNano: Int64 = 0
        var deliveredAtLastNano: Set<String> = []
        var delay: Duration = .milliseconds(100)
        let filters = DockerClient.filters([
            "type": ["container"],
            "label": [instance.map { "\(WorkerLabel.instance)=\($0)" } ?? WorkerLabel.instance],
        ])
        while !Task.isCancelled {
            do {
                let response = try await client.stream(.get, "/events", query: [("since", since), ("filters", filters)],
                                                       timeout: Self.streamLifetime)
                guard response.status == 200 else {
                    throw WhagoError(.unavailable, "the Docker daemon answered /events with \(response.status)")
                }
                delay = .milliseconds(100)
                for try await line in response.lines where !line.isEmpty {
                    guard let message = try? JSONDecoder().decode(EventMessage.self, from: Data(line.utf8)) else {
                        logger.warning("unreadable Docker event skipped", metadata: ["line": "\(line.prefix(200))"])
                        continue
                    }
                    // The same event again after a reconnection (`since` is inclusive): skipped.
                    let nano = message.timeNano ?? (message.time ?? 0) * 1_000_000_000
                    let key = "\(message.Actor?.ID ?? "")/\(message.Action ?? "")"
                    if nano < lastNano || (nano == lastNano && deliveredAtLastNano.contains(key)) { continue }
                    if nano > lastNano {
                        lastNano = nano
                        deliveredAtLastNano = []
                    }
                    deliveredAtLastNano.insert(key)
                    since = "\(nano / 1_000_000_000).\(String(format: "%09lld", nano % 1_000_000_000))"
                    if let event = Self.event(message) { continuation.yield(event) }
                }
            } catch {
                if Task.isCancelled { break }
                logger.notice("the Docker events stream broke; reconnecting",
                              metadata: ["reason": "\(error)", "retryIn": "\(delay)"])
            }
            if Task.isCancelled { break }
            try? await Task.sleep(for: delay)
            delay = min(delay * 2, .seconds(5))
        }
        continuation.finish()
    }

    /// The runtime event for a Docker event, `nil` for actions whago does not follow.
    static func event(_ message: EventMessage) -> RuntimeEvent? {
        guard message.Type == nil || message.Type == "container", let action = message.Action,
              let id = message.Actor?.ID else { return nil }
        let attributes = message.Actor?.Attributes ?? [:]
        let kind: RuntimeEvent.Kind
        switch action {
        case "start": kind = .started
        case "die": kind = .exited(code: attributes["exitCode"].flatMap { Int($0) })
        case "oom": kind = .outOfMemory
        case _ where action.hasPrefix("health_status"):
            let status = action.split(separator: ":").last?.trimmingCharacters(in: .whitespaces)
            switch status {
            case "healthy": kind = .health(.healthy)
            case "unhealthy": kind = .health(.unhealthy)
            case "starting": kind = .health(.starting)
            default: return nil
            }
        default: return nil
        }
        let handle = WorkerHandle(runtimeID: id, name: attributes["name"] ?? id, labels: WhagoLabels.of(attributes))
        let time = message.timeNano.map { Date(timeIntervalSince1970: Double($0) / 1e9) }
            ?? message.time.map { Date(timeIntervalSince1970: Double($0)) } ?? Date()
        return RuntimeEvent(handle: handle, kind: kind, time: time)
    }
}
