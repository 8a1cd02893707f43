import Crypto
import Foundation

/// WAHA's API key check: the configured key is plain or `sha512:<hex of the plain key>`.
struct APIKey: Sendable {
    private let expectedHash: [UInt8]

    init(configured: String) {
        if configured.hasPrefix("sha512:"), let hash = Hex.decode(String(configured.dropFirst("sha512:".count))) {
            expectedHash = hash
        } else {
            expectedHash = Array(SHA512.hash(data: Array(configured.utf8)))
        }
    }

    /// Whether `presented` is the key, compared in constant time through its hash.
    func accepts(_ presented: String?) -> Bool {
        guard let presented else { return false }
        return Hex.constantTimeEqual(Array(SHA512.hash(data: Array(presented.utf8))), expectedHash)
    }

    /// `sha512:<hex>` of a plain key, the form WAHA recommends for `WAHA_API_KEY`.
    static func hashedForm(of plain: String) -> String {
        "sha512:" + Hex.encode(Array(SHA512.hash(data: Array(plain.utf8))))
    }
}

/// Lower-case hex, and constant-time comparison.
enum Hex {
    static func encode(_ bytes: some Sequence<UInt8>) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 15)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func decode(_ text: String) -> [UInt8]? {
        let utf8 = Array(text.utf8)
        guard utf8.count % 2 == 0 else { return nil }
        func value(_ c: UInt8) -> UInt8? {
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
            default: nil
            }
        }
        var bytes: [UInt8] = []
        for index in stride(from: 0, to: utf8.count, by: 2) {
            guard let high = value(utf8[index]), let low = value(utf8[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
        }
        return bytes
    }

    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for index in a.indices { difference |= a[index] ^ b[index] }
        return difference == 0
    }
}
