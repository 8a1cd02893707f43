import Synchronization

/// Counted places: at most `perKey` held by one key and `total` by all keys together (event
/// streams per API key and per process; pass-through calls per tenant). A ``Slot`` is given back
/// when it is released or dropped, whichever comes first, so a stream that ends by its client
/// going away gives its place back.
final class Slots: Sendable {
    let perKey: Int
    let total: Int
    private let held = Mutex<(byKey: [String: Int], total: Int)>(([:], 0))

    init(perKey: Int, total: Int = .max) {
        self.perKey = max(perKey, 1)
        self.total = max(total, 1)
    }

    /// Why `key` cannot have another place, or nil.
    enum Refusal: Error, Sendable { case key, total }

    /// A place for `key`, or why not.
    func take(_ key: String) -> Result<Slot, Refusal> {
        let refusal = held.withLock { held -> Refusal? in
            if held.total >= total { return .total }
            if held.byKey[key, default: 0] >= perKey { return .key }
            held.byKey[key, default: 0] += 1
            held.total += 1
            return nil
        }
        if let refusal { return .failure(refusal) }
        return .success(Slot(slots: self, key: key))
    }

    /// Places held now by `key`, or by all keys when nil.
    func count(_ key: String? = nil) -> Int {
        held.withLock { held in key.map { held.byKey[$0] ?? 0 } ?? held.total }
    }

    fileprivate func give(_ key: String) {
        held.withLock { held in
            held.total -= 1
            let left = held.byKey[key, default: 1] - 1
            held.byKey[key] = left > 0 ? left : nil
        }
    }
}

/// One place of ``Slots``, given back once.
final class Slot: Sendable {
    private let slots: Slots
    private let key: String
    private let given = Atomic<Bool>(false)

    fileprivate init(slots: Slots, key: String) {
        self.slots = slots
        self.key = key
    }

    func release() {
        if !given.exchange(true, ordering: .acquiringAndReleasing) { slots.give(key) }
    }

    deinit { release() }
}
