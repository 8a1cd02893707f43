import Foundation
import Testing
@testable import WAHAPlusProvider
import WhagoCore

/// How the waha-plus driver confines a pass-through request to one chip's session.
@Suite("The waha-plus pass-through rules", .timeLimit(.minutes(3)))
struct PassThroughRuleTests {
    let session = "chip_1"

    func confined(_ method: String, _ path: String, query: [(String, String)] = [], json: String? = nil,
                  contentType: String? = "application/json") throws -> PassThroughRequest {
        try WAHAPlusProvider.confine(PassThroughRequest(
            method: method, path: path.split(separator: "/", omittingEmptySubsequences: false).map(String.init),
            query: query.map { .init(name: $0.0, value: $0.1) }, contentType: json == nil ? nil : contentType,
            body: Array((json ?? "").utf8)), to: session)
    }

    func body(_ request: PassThroughRequest) throws -> [String: String] {
        let object = try JSONSerialization.jsonObject(with: Data(request.body)) as? [String: Any] ?? [:]
        return object.compactMapValues { $0 as? String }
    }

    @Test("the path's session is replaced, wherever WAHA puts it")
    func pathSession() throws {
        #expect(try confined("GET", "api/default/groups").path == ["api", session, "groups"])
        #expect(try confined("GET", "api/sessions/other/me").path == ["api", "sessions", session, "me"])
        #expect(try confined("GET", "api/other/chats/5511@c.us/messages").path == ["api", session, "chats", "5511@c.us", "messages"])
    }

    @Test("the query's session is forced; endpoints without a session place get one")
    func querySession() throws {
        #expect(try confined("GET", "api/contacts/check-exists", query: [("phone", "1"), ("session", "x")]).query
            == [.init(name: "phone", value: "1"), .init(name: "session", value: session)])
        #expect(try confined("GET", "api/messages", query: [("chatId", "1")]).query
            == [.init(name: "chatId", value: "1"), .init(name: "session", value: session)])
        #expect(try confined("GET", "api/default/groups", query: [("session", "x")]).query == [.init(name: "session", value: session)])
    }

    @Test("a JSON body's session is forced, and added on endpoints without a session place; other members are kept")
    func bodySession() throws {
        let send = try confined("POST", "api/sendText", json: #"{"session":"x","chatId":"1@c.us","text":"a/b","session":"y"}"#)
        #expect(try body(send) == ["session": session, "chatId": "1@c.us", "text": "a/b"])
        #expect(try body(try confined("POST", "api/sendImage", json: #"{"chatId":"1@c.us"}"#))["session"] == session)
        #expect(try body(try confined("POST", "api/sendSeen")) == ["session": session], "an empty body gets the session")
        let group = try confined("POST", "api/default/groups", json: #"{"name":"g","session":"x"}"#)
        #expect(try body(group) == ["name": "g", "session": session])
        #expect(try body(try confined("POST", "api/default/groups", json: #"{"name":"g"}"#)) == ["name": "g"], "nothing added where the path names it")
    }

    @Test("refused: outside /api, dot segments, the worker as a whole, the session's life cycle, bodies that cannot carry the session")
    func refusals() throws {
        let refused: [(String, String, String?)] = [
            ("GET", "ping", nil), ("GET", "health", nil), ("GET", "api", nil), ("GET", "api/server/status", nil),
            ("POST", "api/server/stop", "{}"), ("GET", "api/keys", nil), ("GET", "api/apps", nil), ("GET", "api/sessions", nil),
            ("POST", "api/sessions", "{}"), ("POST", "api/sessions/x/start", "{}"), ("PUT", "api/sessions/x", "{}"),
            ("DELETE", "api/sessions/x", nil), ("GET", "api/x/../sessions", nil), ("GET", "api/./server", nil), ("GET", "api//groups", nil),
            ("POST", "api/sendText", "[1]"), ("POST", "api/sendText", "not json"), ("POST", "api/default/groups", "{"), ("OPTIONS", "api/x/groups", nil),
        ]
        for (method, path, json) in refused {
            #expect(throws: WhagoError.self, "\(method) \(path)") { try confined(method, path, json: json) }
        }
        let form = try confined("POST", "api/default/media", json: "a=b", contentType: "application/x-www-form-urlencoded")
        #expect(form.body == Array("a=b".utf8), "a non-JSON body passes where the path names the session")
    }

    @Test("every call that changes what others see is paced, not only send*; quiet calls and reading are not; an unknown call is")
    func sends() throws {
        let provider = WAHAPlusProvider()
        let chip = ChipID(session)
        func request(_ method: String, _ path: String) -> PassThroughRequest {
            PassThroughRequest(method: method, path: path.split(separator: "/").map(String.init), contentType: "application/json", body: Array("{}".utf8))
        }
        let paced = [
            ("POST", "api/sendText"), ("POST", "api/sendImage"), ("POST", "api/send/link-custom-preview"), ("POST", "api/reply"),
            ("POST", "api/forwardMessage"), ("PUT", "api/reaction"), ("POST", "api/sendPollVote"),
            ("PUT", "api/default/chats/123@c.us/messages/true_123@c.us_AAA"), ("DELETE", "api/default/chats/123@c.us/messages/true_123@c.us_AAA"),
            ("POST", "api/default/chats/123@c.us/messages/true_123@c.us_AAA/pin"), ("POST", "api/default/events"),
            ("POST", "api/default/groups"), ("POST", "api/default/groups/join"), ("POST", "api/default/groups/1@g.us/participants/add"),
            ("PUT", "api/default/groups/1@g.us/subject"), ("PUT", "api/default/profile/name"), ("PUT", "api/default/profile/picture"),
            ("POST", "api/default/status/text"), ("POST", "api/default/status/image"), ("POST", "api/default/channels"),
            ("POST", "api/default/something-new"),
        ]
        for (method, path) in paced {
            #expect(try provider.sendsMessage(request(method, path), for: chip), "\(method) \(path)")
        }
        let quiet = [
            ("POST", "api/sendSeen"), ("POST", "api/startTyping"), ("POST", "api/stopTyping"), ("PUT", "api/star"), ("POST", "api/contacts/block"),
            ("GET", "api/messages"), ("GET", "api/default/groups"), ("POST", "api/default/chats/123@c.us/messages/read"),
            ("POST", "api/default/chats/123@c.us/archive"), ("POST", "api/default/chats/overview"), ("DELETE", "api/default/chats/123@c.us"),
            ("POST", "api/default/presence"), ("POST", "api/default/labels"), ("POST", "api/default/media/convert/voice"),
            ("POST", "api/default/auth/request-code"), ("POST", "api/default/channels/search/by-text"), ("POST", "api/default/channels/1@newsletter/follow"),
            ("POST", "api/default/calls/reject"), ("POST", "api/default/groups/refresh"), ("PUT", "api/default/contacts/123@c.us"),
        ]
        for (method, path) in quiet {
            #expect(try !provider.sendsMessage(request(method, path), for: chip), "\(method) \(path)")
        }
    }
}
