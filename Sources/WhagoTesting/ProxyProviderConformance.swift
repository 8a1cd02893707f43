import Foundation
import Testing
public import WhagoCore

/// The behaviour every ``ProxyProvider`` must have, run by every proxy provider's tests:
/// idempotent leases recorded in the store, concurrent leases that never share a sticky port,
/// releases that can be repeated, and a `check` that really goes through the proxy.
///
/// ```swift
/// @Test(arguments: ProxyProviderConformance.Check.allCases)
/// func conformance(_ check: ProxyProviderConformance.Check) async throws { try await suite.run(check) }
/// ```
public struct ProxyProviderConformance: Sendable {
    /// The provider under test and what to expect of it.
    public struct Subject: Sendable {
        public var provider: any ProxyProvider
        /// How many chips may hold a lease at once (nil: no limit).
        public var capacity: Int?
        /// Whether each lease is the chip's own (a sticky port no other chip gets); false for a
        /// shared pool or no proxy.
        public var exclusive: Bool
        /// Whether ``ProxyProvider/check(_:)`` of the first lease really connects through a proxy
        /// (to the suite's probe); false: it reports ``ProxyCheck/unchecked``.
        public var checks: Bool
        /// The username and password ``ProxyProvider/endpoint(for:)`` gives with the first chip's
        /// lease (`chip_0` of tenant `t1`); nil when its endpoint carries none (or there is none).
        public var credentials: Credentials?
        /// Stops what the subject started (a proxy server).
        public var stop: @Sendable () async -> Void

        /// A proxy login.
        public struct Credentials: Sendable, Hashable {
            public var username: String
            public var password: String

            public init(username: String, password: String) {
                self.username = username
                self.password = password
            }
        }

        public init(provider: any ProxyProvider, capacity: Int?, exclusive: Bool, checks: Bool, credentials: Credentials?,
                    stop: @escaping @Sendable () async -> Void = {}) {
            self.provider = provider
            self.capacity = capacity
            self.exclusive = exclusive
            self.checks = checks
            self.credentials = credentials
            self.stop = stop
        }
    }

    let make: @Sendable (_ probeURL: String) async throws -> Subject
    let store: @Sendable () async throws -> (store: any Store, remove: @Sendable () async -> Void)

    /// - make: the provider, built with `probeURL` as its probe URL (the suite's ``LoopbackPeer``,
    ///   answering ``LoopbackPeer/probeAnswer``); called once per check.
    /// - store: a fresh store for each check, and how to close and remove it.
    public init(make: @escaping @Sendable (_ probeURL: String) async throws -> Subject,
                store: @escaping @Sendable () async throws -> (store: any Store, remove: @Sendable () async -> Void)) {
        self.make = make
        self.store = store
    }

    /// The checks, by name: a provider's tests run them as one parameterized test.
    public enum Check: String, CaseIterable, Sendable {
        case leaseIdempotence, concurrentLeases, releaseTwice, checkThroughProxy
    }

    /// Runs one check with a fresh provider, store and probe.
    public func run(_ check: Check) async throws {
        let probe = LoopbackPeer()
        try await probe.start()
        let subject = try await make(await probe.probeURL)
        let (store, remove) = try await self.store()
        do {
            try await store.createTenant(Tenant(id: "t1", name: "t1"))
            for chip in Self.chips { try await store.createChip(Chip(id: chip, tenant: "t1", name: chip.rawValue, status: .provisioning)) }
            switch check {
            case .leaseIdempotence: try await leaseIdempotence(subject, store)
            case .concurrentLeases: try await concurrentLeases(subject, store)
            case .releaseTwice: try await releaseTwice(subject, store)
            case .checkThroughProxy: try await checkThroughProxy(subject, store, probe)
            }
        } catch {
            await remove()
            await subject.stop()
            await probe.stop()
            throw error
        }
        await remove()
        await subject.stop()
        await probe.stop()
    }

    static let chips = (0..<16).map { ChipID("chip_\($0)") }

    // MARK: Checks

    /// Leasing for a chip that holds a lease returns that lease; the lease is in the store,
    /// keeps no password, and names its provider; ``ProxyProvider/endpoint(for:)`` gives the
    /// endpoint back with the subject's credentials.
    func leaseIdempotence(_ subject: Subject, _ store: any Store) async throws {
        let provider = subject.provider
        let lease = try await provider.lease(for: Self.chips[0], hints: ProxyHints(tenant: "t1"), store: store)
        #expect(try await provider.lease(for: Self.chips[0], hints: ProxyHints(tenant: "t1"), store: store) == lease, "the same lease again")
        #expect(try await store.proxyLease(of: Self.chips[0]) == lease, "recorded in the store")
        #expect(try await store.proxyLeases().count == 1)
        #expect(lease.chip == Self.chips[0] && lease.provider == provider.name)
        #expect(lease.endpoint?.password == nil, "a lease keeps no password")
        let endpoint = provider.endpoint(for: lease)
        #expect(endpoint?.scheme == lease.endpoint?.scheme && endpoint?.host == lease.endpoint?.host && endpoint?.port == lease.endpoint?.port)
        #expect(endpoint?.username == lease.endpoint?.username, "the lease keeps the username")
        if let credentials = subject.credentials {
            #expect(endpoint?.username == credentials.username, "the endpoint's username")
            #expect(endpoint?.password?.revealed == credentials.password, "the endpoint's password, given back by endpoint(for:)")
        } else {
            #expect(endpoint?.username == nil && endpoint?.password == nil, "no credentials: \(String(describing: endpoint))")
        }
    }

    /// 16 chips lease at once: each gets one lease or `capacity_exhausted`, as many succeed as
    /// the capacity allows, and an exclusive provider never gives two chips the same sticky port.
    func concurrentLeases(_ subject: Subject, _ store: any Store) async throws {
        let provider = subject.provider
        let outcomes = await withTaskGroup(of: Result<ProxyLease, any Error>.self) { group in
            for chip in Self.chips {
                group.addTask {
                    do { return .success(try await provider.lease(for: chip, hints: ProxyHints(tenant: "t1"), store: store)) } catch { return .failure(error) }
                }
            }
            return await group.reduce(into: [Result<ProxyLease, any Error>]()) { $0.append($1) }
        }
        let leases = outcomes.compactMap { try? $0.get() }
        let failures = outcomes.compactMap { outcome -> (any Error)? in if case .failure(let error) = outcome { error } else { nil } }
        #expect(failures.allSatisfy { ($0 as? WhagoError)?.code == .capacityExhausted }, "only capacity_exhausted: \(failures)")
        #expect(leases.count == min(Self.chips.count, subject.capacity ?? Self.chips.count))
        #expect(Set(leases.map(\.chip)).count == leases.count, "one lease per chip")
        #expect(try await store.proxyLeases().count == leases.count, "every lease in the store, no other")
        if subject.exclusive {
            let ports = leases.compactMap(\.stickyPort)
            #expect(ports.count == leases.count, "an exclusive provider's leases each hold a sticky port")
            #expect(Set(ports).count == ports.count, "no sticky port shared: \(ports.sorted())")
        }
    }

    /// Releasing removes the lease from the store; releasing again succeeds; the capacity comes
    /// back (a new chip can lease).
    func releaseTwice(_ subject: Subject, _ store: any Store) async throws {
        let provider = subject.provider
        // Fill the capacity (when it is below 16), so that the last chip can lease only after a release.
        var leases: [ProxyLease] = []
        for chip in Self.chips.prefix(min(subject.capacity ?? 1, Self.chips.count - 1)) {
            leases.append(try await provider.lease(for: chip, hints: ProxyHints(tenant: "t1"), store: store))
        }
        let next = try #require(Self.chips.last)
        if subject.capacity != nil {
            await #expect { try await provider.lease(for: next, hints: ProxyHints(tenant: "t1"), store: store) } throws: {
                ($0 as? WhagoError)?.code == .capacityExhausted
            }
        }
        let first = try #require(leases.first)
        try await provider.release(first, store: store)
        try await provider.release(first, store: store)
        #expect(try await store.proxyLease(of: first.chip) == nil)
        let again = try await provider.lease(for: next, hints: ProxyHints(tenant: "t1"), store: store)
        #expect(try await store.proxyLease(of: next) == again, "the released capacity is leased again")
    }

    /// `check` really connects through the proxy to the probe (exit address, latency), or says
    /// that nothing was checked when there is no proxy.
    func checkThroughProxy(_ subject: Subject, _ store: any Store, _ probe: LoopbackPeer) async throws {
        let lease = try await subject.provider.lease(for: Self.chips[0], hints: ProxyHints(tenant: "t1"), store: store)
        let hitsBefore = await probe.probeHits
        let check = try await subject.provider.check(lease)
        if subject.checks {
            #expect(check.checked)
            #expect(check.exitIP == LoopbackPeer.probeAnswer)
            #expect(check.latency > .zero)
            #expect(await probe.probeHits == hitsBefore + 1, "the probe was reached")
        } else {
            #expect(check == .unchecked)
            #expect(await probe.probeHits == hitsBefore, "nothing was sent")
        }
    }
}
