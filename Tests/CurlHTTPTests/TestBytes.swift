/// Large bodies for the tests, made without a loop over every byte: a debug build spends seconds
/// of a core on ten million single-byte steps, and the other tests run on the same two cores.
enum TestBytes {
    /// `count` bytes in which byte `i` is `byte(i % 256)`: one period computed, then copied in
    /// doubling blocks.
    static func pattern(_ count: Int, _ byte: (Int) -> UInt8) -> [UInt8] {
        let period = (0..<256).map(byte)
        return [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            guard let base = buffer.baseAddress else { return }
            var filled = min(count, period.count)
            period.withUnsafeBufferPointer { base.initialize(from: $0.baseAddress!, count: filled) }
            while filled < count {
                let length = min(filled, count - filled)
                (base + filled).initialize(from: base, count: length)
                filled += length
            }
            initialized = count
        }
    }
}
