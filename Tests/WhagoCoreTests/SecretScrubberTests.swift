import Foundation
import Testing
import WhagoCore

@Suite("Secrets taken out of workers' answers")
struct SecretScrubberTests {
    let scrubber = SecretScrubber(secrets: ["p@ss/w0rd%", "hmac-key-0123", "di-login__cr.br", "abc"])

    func json(_ text: String) -> JSONValue? {
        try? JSONDecoder().decode(JSONValue.self, from: Data(scrubber.scrub(Array(text.utf8), contentType: "application/json; charset=utf-8")))
    }

    @Test("JSON members that hold secrets are masked by name; the rest is kept")
    func byName() throws {
        let session = try #require(json("""
            {"name":"c1","config":{"proxy":{"server":"gw:10000","username":"someone","password":"other-pass"},
             "webhooks":[{"url":"http://w/hook","hmac":{"key":"k-1"},"customHeaders":[{"name":"X-Auth","value":"v-1"}]}],
             "metadata":{"whago.chip":"c1"},"apiKey":"zz","accessToken":"t","_data":{"key":{"id":"A1","fromMe":true}}}}
            """))
        #expect(session["config"]?["proxy"] == .object(["server": "gw:10000", "username": "***", "password": "***"]))
        let webhook = session["config"]?["webhooks"]?.arrayValue?.first
        #expect(webhook?["hmac"] == .object(["key": "***"]), "its shape kept")
        #expect(webhook?["customHeaders"] == .array([.object(["name": "X-Auth", "value": "***"])]))
        #expect(webhook?["url"] == "http://w/hook")
        #expect(session["config"]?["apiKey"] == "***" && session["config"]?["accessToken"] == "***")
        #expect(session["config"]?["_data"]?["key"]?["id"] == "A1", "a message's key object is not a secret")
        #expect(session["config"]?["metadata"]?["whago.chip"] == "c1")
    }

    @Test("known secrets are masked in any answer: as written, JSON-escaped and percent-encoded; short ones are ignored")
    func byValue() {
        let text = "proxy http://di-login__cr.br:p%40ss%2Fw0rd%25@gw failed; key hmac-key-0123; abc stays"
        let scrubbed = String(decoding: scrubber.scrub(Array(text.utf8), contentType: "text/plain"), as: UTF8.self)
        #expect(scrubbed == "proxy http://***:***@gw failed; key ***; abc stays")
        let escaped = #"{"note":"p@ss\/w0rd%"}"#
        #expect(String(decoding: scrubber.scrub(Array(escaped.utf8), contentType: "application/json"), as: UTF8.self) == #"{"note":"***"}"#)
    }

    @Test("a JSON answer with nothing to mask is passed byte for byte (large numbers intact)")
    func untouched() {
        let text = #"{"id":"x","timestamp":12345678901234567890,"list":[1,2]}"#
        #expect(scrubber.scrub(Array(text.utf8), contentType: "application/json") == Array(text.utf8))
    }
}
