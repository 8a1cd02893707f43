import Foundation
public import Logging
public import ServiceLifecycle
public import WhagoCore

/// Holds the store's `leader` lease for this process while it can, renewing it: the health
/// monitor, the reaper, the reconciler (and event delivery) do their work only while
/// ``fence()`` gives a fence, and pass it with their batches, so a deposed leader's late writes
/// are refused by the store. On one node this process is always the leader; replicas on one
/// PostgreSQL take turns with no change to the loops.
public actor Leadership: Service {
    /// The lease's name in the store.
    public static let lease = "leader"

    let store: any Store
    /// Who this process is in the lease: the installation, the host and the process.
    public nonisolated let holder: String
    let ttl: Duration
    let logger: Logger
    private var current: (token: FencingToken, validUntil: ContinuousClock.Instant)?
    private var waiters: [UUID: CheckedContinuation<Void, Never>] = [:]

    public init(store: any Store, instance: InstanceID, ttl: Duration, logger: Logger) {
        self.store = store
        self.ttl = ttl
        self.logger = logger
        let host = ProcessInfo.processInfo.hostName
        holder = "\(instance.rawValue)/\(host)/\(getpid())/\(UUID().uuidString.prefix(8))"
    }

    /// The fence of the current term, or nil when this process is not the leader (or its lease may
    /// have run out: a term is trusted for two thirds of the TTL after its last renewal).
    public func fence() -> Fence? {
        guard let current, ContinuousClock.now < current.validUntil else { return nil }
        return Fence(lease: Self.lease, token: current.token)
    }

    /// Whether this process leads now.
    public var isLeader: Bool { fence() != nil }

    /// Returns once this process leads (at once when it does), or when the task is cancelled (a
    /// replica that never leads must still stop on SIGTERM).
    public func waitUntilLeader() async {
        if fence() != nil || Task.isCancelled { return }
        let id = UUID()
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                if Task.isCancelled {
                    continuation.resume()
                } else {
                    waiters[id] = continuation
                }
            }
        } onCancel: {
            Task { await self.release(id) }
        }
    }

    /// How many callers are waiting in ``waitUntilLeader()`` now (for tests that need a wait to
    /// have begun before they end it).
    @_spi(Testing) public var waitingCount: Int { waiters.count }

    private func release(_ id: UUID) {
        waiters.removeValue(forKey: id)?.resume()
    }

    /// The leadership seam of every leader-only loop: runs `body` with the current fence every
    /// `interval` while this process leads (skipping the turns when it does not), until graceful
    /// shutdown or cancellation.
    /// - Parameter waitForLeadership: wait for the first term before the first turn (the
    ///   reconciler's startup pass runs as soon as this process leads).
    public nonisolated func whileLeading(every interval: Duration, waitForLeadership: Bool = false,
                                         _ body: @escaping @Sendable (Fence) async -> Void) async {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                if waitForLeadership { await self.waitUntilLeader() }
                if let fence = await self.fence() { await body(fence) }
                try? await Task.sleep(for: interval)
            }
        }
    }

    /// Tries to take or renew the lease once; returns whether this process leads.
    @discardableResult
    public func attempt() async -> Bool {
        let started = ContinuousClock.now
        do {
            if let token = current?.token, try await store.renewLease(Self.lease, holder: holder, token: token, ttl: ttl) {
                current = (token, started + ttl * 2 / 3)
            } else if let token = try await store.acquireLease(Self.lease, holder: holder, ttl: ttl) {
                if current?.token != token { logger.notice("leading the installation", metadata: ["holder": "\(holder)", "token": "\(token)"]) }
                current = (token, started + ttl * 2 / 3)
            } else {
                if current != nil { logger.warning("lost the leadership to another replica", metadata: ["holder": "\(holder)"]) }
                current = nil
            }
        } catch {
            logger.warning("cannot renew the leadership: \(error)")
        }
        if fence() != nil {
            let ready = waiters.values
            waiters = [:]
            for waiter in ready { waiter.resume() }
            return true
        }
        return false
    }

    /// Lets the lease go now, so that the next replica takes over at once rather than after the TTL.
    public func resign() async {
        guard current != nil else { return }
        try? await store.releaseLease(Self.lease, holder: holder)
        current = nil
        logger.info("released the leadership")
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await self.attempt()
                try? await Task.sleep(for: self.ttl / 3)
            }
        }
        await resign()
        let stranded = waiters.values
        waiters = [:]
        for waiter in stranded { waiter.resume() }
    }
}
