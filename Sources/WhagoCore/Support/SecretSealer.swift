import Crypto
import Foundation

/// Seals the secrets a store keeps (workers' API keys and webhook secrets, tenants' webhook
/// secrets) with the installation's master key, ChaCha20-Poly1305: what is on disk or in the
/// database is `sealed:v1:<key id>:<base64>`, useless without the key, and opening it with
/// another key fails (the AEAD's tag), never yields garbage.
///
/// Stores use it through `Encoder.userInfo`/`Decoder.userInfo` under
/// ``Swift/CodingUserInfoKey/secretSealer``: a ``Secret`` encodes sealed when a sealer is there,
/// and a sealed one decodes only with the right key.
public struct SecretSealer: Sendable {
    private let key: SymmetricKey
    /// A fingerprint of the key, not the key: says which key sealed a value.
    public let keyID: String

    private static let prefix = "sealed:v1:"

    /// A sealer from the master key (any text; a key of its own is derived with HKDF-SHA256).
    public init(masterKey: Secret) {
        let material = SymmetricKey(data: Array(masterKey.revealed.utf8))
        key = HKDF<SHA256>.deriveKey(inputKeyMaterial: material, salt: Array("whago.sealer.v1".utf8), info: Array("secrets".utf8), outputByteCount: 32)
        let fingerprint = HMAC<SHA256>.authenticationCode(for: Array("whago.key-id".utf8), using: key)
        keyID = Hex.encode(Array(fingerprint).prefix(4))
    }

    /// A new random master key: 256 bits as hex.
    public static func generateMasterKey() -> Secret {
        Secret(Hex.random())
    }

    /// `sealed:v1:<key id>:<base64 of nonce, ciphertext and tag>`.
    public func seal(_ secret: Secret) throws -> String {
        let box = try ChaChaPoly.seal(Array(secret.revealed.utf8), using: key)
        return Self.prefix + keyID + ":" + box.combined.base64EncodedString()
    }

    /// Whether `text` is a sealed value (else a secret stored before sealing existed).
    public static func isSealed(_ text: String) -> Bool { text.hasPrefix(prefix) }

    /// The secret in a sealed value; `unauthorized` when another key sealed it, `corrupt` when it
    /// was damaged.
    public func open(_ text: String) throws(WhagoError) -> Secret {
        let parts = text.dropFirst(Self.prefix.count).split(separator: ":", maxSplits: 1)
        guard Self.isSealed(text), parts.count == 2, let data = Data(base64Encoded: String(parts[1])) else {
            throw WhagoError(.corrupt, "a sealed secret in the store is damaged")
        }
        guard parts[0] == keyID else {
            throw WhagoError(.unauthorized, "the store's secrets were sealed with another master key (key id \(parts[0]), this whago's is \(keyID)); "
                + "set server.masterKey to the key this store was written with")
        }
        do {
            let opened = try ChaChaPoly.open(try ChaChaPoly.SealedBox(combined: data), using: key)
            return Secret(String(decoding: opened, as: UTF8.self))
        } catch {
            throw WhagoError(.corrupt, "a sealed secret in the store does not open with the master key (damaged, or tampered with)")
        }
    }

    /// A sealed known text, kept by a store so that opening it with another key fails at once
    /// rather than at the first secret read.
    public func keyCheck() throws -> String { try seal(Secret("whago-key-check")) }

    /// Verifies a store's key check; the errors of ``open(_:)``.
    public func verify(keyCheck text: String) throws(WhagoError) {
        guard try open(text).revealed == "whago-key-check" else {
            throw WhagoError(.unauthorized, "the store was sealed with another master key; set server.masterKey to the key this store was written with")
        }
    }
}

extension CodingUserInfoKey {
    /// Where a store puts its ``SecretSealer`` for the records it encodes and decodes.
    public static let secretSealer = CodingUserInfoKey(rawValue: "whago.secretSealer")!
}
