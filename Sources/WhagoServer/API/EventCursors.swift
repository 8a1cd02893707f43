import Crypto
import Foundation
import WhagoCore

/// Event cursors as clients see them: `c_` and 16 hex digits, a keyed permutation of the event's
/// place in the store-wide log. The log is shared by every tenant, so its raw sequence would tell
/// a tenant how many events the others have (the gaps between its own); the permutation (a
/// four-round Feistel network over 64 bits, HMAC-SHA256 rounds) keeps that to whago. Every
/// replica with the same key (the master key) reads the others' cursors, so a client resumes on
/// any of them. `0` (the oldest kept) and a plain number are read too; `0` is written as `0`.
struct EventCursors: Sendable {
    private let rounds: [SymmetricKey]

    init(key: Secret) {
        let material = SymmetricKey(data: Array(key.revealed.utf8))
        rounds = (0..<4).map { round in
            HKDF<SHA256>.deriveKey(inputKeyMaterial: material, salt: Array("whago.cursors.v1".utf8), info: [UInt8(round)], outputByteCount: 32)
        }
    }

    /// The cursor a client is given for `sequence`.
    func token(_ sequence: Int64) -> String {
        guard sequence > 0 else { return "0" }
        var (left, right) = (UInt32(truncatingIfNeeded: UInt64(sequence) >> 32), UInt32(truncatingIfNeeded: UInt64(sequence)))
        for key in rounds { (left, right) = (right, left ^ Self.mix(right, key)) }
        let hex = String((UInt64(left) << 32 | UInt64(right)), radix: 16)
        return "c_" + String(repeating: "0", count: 16 - hex.count) + hex
    }

    /// The sequence behind a cursor a client gave back, or nil when it is not one.
    func sequence(_ token: String) -> Int64? {
        if let plain = Int64(token) { return plain >= 0 ? plain : nil }
        guard token.hasPrefix("c_"), token.utf8.count == 18, let value = UInt64(token.dropFirst(2), radix: 16) else { return nil }
        var (left, right) = (UInt32(truncatingIfNeeded: value >> 32), UInt32(truncatingIfNeeded: value))
        for key in rounds.reversed() { (left, right) = (right ^ Self.mix(left, key), left) }
        let sequence = UInt64(left) << 32 | UInt64(right)
        return sequence <= UInt64(Int64.max) && sequence > 0 ? Int64(sequence) : nil
    }

    private static func mix(_ half: UInt32, _ key: SymmetricKey) -> UInt32 {
        let code = Array(HMAC<SHA256>.authenticationCode(for: withUnsafeBytes(of: half.bigEndian) { Array($0) }, using: key))
        return code.prefix(4).reduce(0) { $0 << 8 | UInt32($1) }
    }
}
