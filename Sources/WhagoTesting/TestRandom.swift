import Foundation

/// A seeded random number generator for tests that draw random points, inputs or orders, so that a
/// failure can be replayed: the seed comes from `WHAGO_TEST_SEED` when set, else from the system,
/// and is printed with the test's name (`random seed for <name>: N (replay with WHAGO_TEST_SEED=N)`).
///
/// SplitMix64: small, fast and good enough for choosing test cases (not for secrets).
public struct TestRandom: RandomNumberGenerator, Sendable {
    /// The seed this generator started from.
    public let seed: UInt64
    private var state: UInt64

    /// A generator seeded from `WHAGO_TEST_SEED` or at random, announcing its seed for `name`.
    public init(_ name: String) {
        let seed = ProcessInfo.processInfo.environment["WHAGO_TEST_SEED"].flatMap { UInt64($0) } ?? UInt64.random(in: 0...UInt64.max)
        self.init(seed: seed)
        print("random seed for \(name): \(seed) (replay with WHAGO_TEST_SEED=\(seed))")
    }

    /// A generator that starts from `seed`, silently.
    public init(seed: UInt64) {
        self.seed = seed
        state = seed
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
