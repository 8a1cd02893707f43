import Crypto
import Foundation
import WhagoCore

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
