import Foundation
import OpenAPIRuntime
import Orchestrator
import ServiceLifecycle
import WhagoCore

/// A tenant's chip events from the store's event log: pages for clients that poll, and
/// Server-Sent Events streams that follow the log (each event's `id:` is its cursor, so a client
/// resumes with `Last-Event-ID`). Streams end on graceful shutdown; clients reconnect.
struct EventFeed: Sendable {
    let log: EventService
    /// How often a stream looks for new events.
    let pollInterval: Duration
    /// A comment line after this much silence, so proxies keep the connection.
    let heartbeat: Duration
    /// Where the log ends, shared by this feed's streams.
    let watch: EventLogWatch
    /// The cursors clients are given.
    let cursors: EventCursors
    /// The streams' reads, shared: one read of a tenant's events per new end of the log.
    let pages = SharedPages()

    init(log: EventService, cursors: EventCursors, pollInterval: Duration = .milliseconds(250), heartbeat: Duration = .seconds(15)) {
        self.log = log
        self.cursors = cursors
        self.pollInterval = pollInterval
        self.heartbeat = heartbeat
        self.watch = EventLogWatch(log: log, interval: pollInterval)
    }

    /// A feed of `store`'s event log.
    init(store: any Store, cursors: EventCursors, pollInterval: Duration = .milliseconds(250), heartbeat: Duration = .seconds(15)) {
        self.init(log: EventService(store: store), cursors: cursors, pollInterval: pollInterval, heartbeat: heartbeat)
    }

    /// The tenant's events after `cursor`, oldest first.
    func page(of tenant: TenantID, after cursor: Int64, limit: Int) async throws -> [OutboxEntry] {
        try await log.events(of: tenant, after: cursor, limit: limit)
    }

    /// An endless SSE body from `cursor` on, holding `slot` (its place among the open streams)
    /// until it ends or is dropped.
    func stream(of tenant: TenantID, after cursor: Int64, slot: Slot? = nil) -> HTTPBody {
        HTTPBody(Stream(feed: self, tenant: tenant, cursor: cursor, slot: slot), length: .unknown, iterationBehavior: .single)
    }

    /// `id`, `event` and `data` lines of one event.
    func frame(_ entry: OutboxEntry) -> [UInt8] {
        let data = (try? RFC3339Transcoder.jsonEncoder.encode(Components.Schemas.Event(entry, cursors: cursors))) ?? Data("{}".utf8)
        return Array("id: \(cursors.token(entry.sequence))\nevent: \(entry.event.kind.rawValue)\ndata: ".utf8) + Array(data) + Array("\n\n".utf8)
    }

    struct Stream: AsyncSequence, Sendable {
        typealias Element = ArraySlice<UInt8>
        let feed: EventFeed
        let tenant: TenantID
        let cursor: Int64
        let slot: Slot?

        func makeAsyncIterator() -> Iterator {
            Iterator(feed: feed, tenant: tenant, cursor: cursor, slot: slot)
        }

        struct Iterator: AsyncIteratorProtocol {
            let feed: EventFeed
            let tenant: TenantID
            var cursor: Int64
            /// Where the log ended when the tenant's events were last read completely: they are
            /// read again only once it has grown past this.
            var readTo: Int64
            var started = false
            var lastWrite = ContinuousClock.now
            let slot: Slot?

            init(feed: EventFeed, tenant: TenantID, cursor: Int64, slot: Slot?) {
                self.slot = slot
                self.feed = feed
                self.tenant = tenant
                self.cursor = cursor
                self.readTo = cursor
            }

            mutating func next() async throws -> ArraySlice<UInt8>? {
                if !started {
                    started = true
                    // The starting cursor as the first block's id: a client that reconnects before
                    // any event arrives resumes from here (a block without data dispatches nothing).
                    let token = feed.cursors.token(cursor)
                    return ArraySlice("retry: 2000\nid: \(token)\n: whago events after \(token)\n\n".utf8)
                }
                while !Task.isCancelled, !Task.isShuttingDownGracefully {
                    let end = try await feed.watch.latestSequence()
                    if end > readTo {
                        let limit = 100
                        // Every stream of the tenant at this cursor when the log ended at `end`
                        // gets the same page: one store read for all of them.
                        let (feed, tenant, after) = (feed, tenant, cursor)
                        let entries = try await feed.pages.page(SharedPages.Key(tenant: tenant, after: after, end: end, limit: limit)) {
                            try await feed.page(of: tenant, after: after, limit: limit)
                        }
                        cursor = entries.last?.sequence ?? cursor
                        // A full page may stop short of `end`: the next turn reads on from its last.
                        readTo = entries.count < limit ? Swift.max(end, cursor) : cursor
                        if !entries.isEmpty {
                            lastWrite = .now
                            return ArraySlice(entries.flatMap(feed.frame))
                        }
                    }
                    if ContinuousClock.now - lastWrite >= feed.heartbeat {
                        lastWrite = .now
                        return ArraySlice(": keep-alive\n\n".utf8)
                    }
                    do { try await Task.sleep(for: feed.pollInterval) } catch { return nil }
                }
                return nil
            }
        }
    }
}

/// The event streams' reads of the store, shared: the streams of one tenant at one cursor, when the
/// log ended at one place, need the same page, and the first one to ask reads it for all (500
/// streams of a tenant cost one store read per new event, not 500). Only the pages read at the
/// newest end of the log are kept for each tenant.
actor SharedPages {
    struct Key: Hashable, Sendable {
        var tenant: TenantID
        var after: Int64
        var end: Int64
        var limit: Int
    }

    private var pages: [Key: Task<[OutboxEntry], any Error>] = [:]

    func page(_ key: Key, read: @escaping @Sendable () async throws -> [OutboxEntry]) async throws -> [OutboxEntry] {
        if let shared = pages[key] { return try await shared.value }
        pages = pages.filter { $0.key.tenant != key.tenant || $0.key.end >= key.end }
        let task = Task { try await read() }
        pages[key] = task
        do {
            return try await task.value
        } catch {
            if pages[key] == task { pages[key] = nil }
            throw error
        }
    }
}
