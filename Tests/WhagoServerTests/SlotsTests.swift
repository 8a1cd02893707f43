import Testing
@testable import WhagoServer

/// The counted places behind the stream and pass-through limits.
@Suite("Slots: per key and in all, given back once")
struct SlotsTests {
    @Test("a key holds at most perKey, all keys at most total; a released or dropped slot is given back once")
    func counting() throws {
        let slots = Slots(perKey: 2, total: 3)
        let a1 = try slots.take("a").get()
        var a2: Slot? = try slots.take("a").get()
        #expect(throws: Slots.Refusal.key) { try slots.take("a").get() }
        let b1 = try slots.take("b").get()
        #expect(throws: Slots.Refusal.total) { try slots.take("b").get() }
        #expect(slots.count() == 3 && slots.count("a") == 2)
        a1.release()
        a1.release()
        #expect(slots.count("a") == 1 && slots.count() == 2, "released once, however often it is called")
        a2 = nil
        #expect(a2 == nil && slots.count("a") == 0, "a dropped slot is given back")
        let b2 = try slots.take("b").get()
        #expect(slots.count("b") == 2)
        withExtendedLifetime([b1, b2]) {}
    }
}
