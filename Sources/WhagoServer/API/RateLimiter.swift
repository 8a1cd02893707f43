import Foundation
import Synchronization

/// A token bucket per API key: `rate` tokens a second, at most `burst` saved up.
///
/// Buckets of keys not seen for a minute are forgotten (a full bucket is what a new one is), so
/// the table stays as small as the set of active keys.
final class RateLimiter: Sendable {
    private struct Bucket {
        var tokens: Double
        var updated: ContinuousClock.Instant
    }

    let rate: Double
    let burst: Double
    /// What time it is (the clock's, unless a test drives time).
    let clock: @Sendable () -> ContinuousClock.Instant
    private let buckets = Mutex<[String: Bucket]>([:])
    private let lastSweep: Mutex<ContinuousClock.Instant>

    /// - perSecond: a refill rate below one a second, overriding `rate`.
    init(rate: Int, burst: Int, clock: @escaping @Sendable () -> ContinuousClock.Instant = { .now }, perSecond: Double? = nil) {
        self.rate = perSecond ?? Double(max(rate, 1))
        self.burst = Double(max(burst, 1))
        self.clock = clock
        lastSweep = Mutex(clock())
    }

    /// Takes a token for `key`: nil when allowed, else how long until the next token.
    func acquire(_ key: String) -> Duration? {
        acquire(key, now: clock())
    }

    /// Takes `cost` tokens for `key` at `now`: nil when allowed, else how long until there are
    /// that many (nothing is taken then).
    func acquire(_ key: String, cost: Double = 1, now: ContinuousClock.Instant) -> Duration? {
        sweep(now: now)
        return buckets.withLock { buckets in
            var bucket = Bucket(tokens: tokens(of: buckets[key], at: now), updated: now)
            defer { buckets[key] = bucket }
            guard bucket.tokens >= cost else {
                return .seconds((cost - bucket.tokens) / rate)
            }
            bucket.tokens -= cost
            return nil
        }
    }

    /// How long until `key` has `cost` tokens, without taking any; nil when it has them.
    func peek(_ key: String, cost: Double = 1, now: ContinuousClock.Instant? = nil) -> Duration? {
        let now = now ?? clock()
        let tokens: Double = buckets.withLock { self.tokens(of: $0[key], at: now) }
        return tokens >= cost ? nil : .seconds((cost - tokens) / rate)
    }

    /// The tokens of a bucket at `now`: what it held, refilled since (a full bucket for a new key).
    private func tokens(of bucket: Bucket?, at now: ContinuousClock.Instant) -> Double {
        guard let bucket else { return burst }
        let elapsed = now - bucket.updated
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        return min(burst, bucket.tokens + seconds * rate)
    }

    private func sweep(now: ContinuousClock.Instant) {
        let due = lastSweep.withLock { last -> Bool in
            guard now - last > .seconds(60) else { return false }
            last = now
            return true
        }
        guard due else { return }
        buckets.withLock { buckets in
            buckets = buckets.filter { now - $0.value.updated < .seconds(60) }
        }
    }
}

/// Failures per key (a client address): at most `perMinute` in any minute, as a token bucket
/// that only failures drain. Once it is empty the key is blocked until a token comes back, so a
/// credential cannot be guessed faster than that, whatever else the client does.
final class FailureLimiter: Sendable {
    let perMinute: Int
    private let bucket: RateLimiter

    init(perMinute: Int, clock: @escaping @Sendable () -> ContinuousClock.Instant = { .now }) {
        self.perMinute = max(perMinute, 1)
        bucket = RateLimiter(rate: 1, burst: self.perMinute, clock: clock, perSecond: Double(self.perMinute) / 60)
    }

    /// How long `key` stays blocked, or nil when it may try.
    func blocked(_ key: String) -> Duration? { bucket.peek(key) }

    /// Counts one failure of `key`.
    func fail(_ key: String) { _ = bucket.acquire(key) }
}
