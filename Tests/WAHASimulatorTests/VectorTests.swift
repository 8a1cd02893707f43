import Crypto
import Foundation
import Testing
@testable import WAHASimulator
import WhagoCore

@Suite("WAHA's test vectors (waha.md)", .timeLimit(.minutes(10)))
struct VectorTests {
    @Test("the API key sha512 form: 32 zeros hash to 98b6d128…d6124648")
    func apiKeyHash() {
        let hashed = APIKey.hashedForm(of: String(repeating: "0", count: 32))
        #expect(hashed.hasPrefix("sha512:98b6d128"))
        #expect(hashed.hasSuffix("d6124648"))
        #expect(hashed.count == "sha512:".count + 128)
        let key = APIKey(configured: hashed)
        #expect(key.accepts(String(repeating: "0", count: 32)))
        #expect(!key.accepts(String(repeating: "0", count: 31)))
        #expect(!key.accepts(nil))
        #expect(APIKey(configured: "plain-key").accepts("plain-key"))
        #expect(!APIKey(configured: "plain-key").accepts("plain-kez"))
    }

    @Test("the webhook HMAC: the documented body and key give 208f8a55dde9e055…6153fa89")
    func webhookHMAC() {
        let body = Array(#"{"event":"message","session":"default","engine":"WEBJS"}"#.utf8)
        let signature = WebhookSignature.hmacSHA512(body: body, key: "my-secret-key")
        #expect(signature.hasPrefix("208f8a55dde9e055"))
        #expect(signature.hasSuffix("6153fa89"))
        #expect(signature.count == 128)
    }

    @Test("event ids are lower-case ULIDs that sort by time")
    func ulids() {
        let early = ULID.make(at: Date(timeIntervalSince1970: 1_700_000_000))
        let late = ULID.make(at: Date(timeIntervalSince1970: 1_800_000_000))
        #expect(early.count == 26 && late.count == 26)
        #expect(early == early.lowercased())
        #expect(early < late)
    }
}
