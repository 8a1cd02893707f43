import CurlHTTP
import Foundation
public import WhagoCore

/// The pass-through (`/api/v1/chips/{id}/waha/{path}`): a tenant's request to WAHA's own API, sent
/// to the chip's worker with whago's key and confined to the chip's session.
///
/// WAHA names the session in one of three places (waha-openapi.json): the path (`/api/{session}/…`,
/// `/api/sessions/{session}/…`), the query (`?session=`), or the JSON body (`"session"`). Whatever
/// the tenant wrote there becomes the chip's session; the endpoints without a session place
/// (`/api/sendText`, `/api/contacts/…`) get it in the query and in a JSON body. Refused: what
/// reaches the worker as a whole (`/api/server`, `/api/keys`, `/api/apps`, `/ping`, `/health`,
/// the session list) and the session's life cycle and configuration, which whago drives
/// (`/api/sessions/{session}` is read-only).
extension WAHAPlusProvider {
    /// The first segments after `/api/` that are endpoints, not a session name (waha-openapi.json).
    static let sessionlessRoots: Set<String> = [
        "contacts", "send", "sendText", "sendImage", "sendFile", "sendVoice", "sendVideo", "sendButtons", "sendList",
        "forwardMessage", "sendSeen", "startTyping", "stopTyping", "reaction", "star", "sendPoll", "sendPollVote",
        "sendLocation", "sendContactVcard", "messages", "checkNumberStatus", "reply", "sendLinkPreview", "screenshot", "version",
    ]
    /// First segments after `/api/` that act on the worker as a whole, never passed through.
    static let workerWideRoots: Set<String> = ["server", "keys", "apps", "mcp"]
    /// The largest answer passed back.
    static let passThroughMaxAnswer = 16 << 20

    public func forward(_ request: PassThroughRequest, for chip: ChipID, on worker: WorkerEndpoint) async throws -> PassThroughResponse {
        var prepared = try Self.confine(request, to: chip.rawValue)
        if prepared.method != "GET", prepared.contentType == "application/json" {
            prepared.body = try await FetchedURLs(policy: configuration.mediaURLs).check(prepared.body, path: prepared.path)
        }
        var query = ""
        if !prepared.query.isEmpty {
            query = "?" + prepared.query.map { Self.queryEscaped($0.name) + "=" + Self.queryEscaped($0.value) }.joined(separator: "&")
        }
        let path = "/" + prepared.path.map(Self.escaped).joined(separator: "/")
        var outgoing = HTTPClientRequest(HTTPClientRequest.Method(rawValue: prepared.method),
                                         worker.baseURL.absoluteString.trimmingSuffix("/") + path + query,
                                         timeout: configuration.requestTimeout.duration, connectTimeout: .seconds(5),
                                         maxBodySize: Self.passThroughMaxAnswer)
        outgoing.addHeader("X-Api-Key", worker.apiKey.revealed)
        outgoing.addHeader("Accept", prepared.accept ?? "*/*")
        if !prepared.body.isEmpty || ["POST", "PUT", "PATCH"].contains(prepared.method) {
            outgoing.body = prepared.body
            if let contentType = prepared.contentType { outgoing.addHeader("Content-Type", contentType) }
        }
        do {
            let response = try await client.http.execute(outgoing)
            return PassThroughResponse(status: response.status, contentType: response.header("Content-Type").map { WorkerText.clean($0, limit: 128) },
                                       body: response.body)
        } catch let error as HTTPClientError where error.kind == .bodyTooLarge {
            throw WhagoError(.protocolError, "worker \(worker.worker)'s answer is larger than \(Self.passThroughMaxAnswer >> 20) MiB")
        } catch let error as HTTPClientError {
            throw WhagoError(.unavailable, "worker \(worker.worker) is unreachable: \(error.message)")
        }
    }

    /// Every call that changes something is paced like a message (a reaction, an edit, a revoke,
    /// a status post, a group created or joined, participants added, the profile changed: each
    /// is seen by other accounts, and a burst of any of them is what gets a number banned),
    /// except the quiet ones of ``isQuiet(_:)``; reading is never paced. An endpoint whago does not
    /// know is paced.
    public func sendsMessage(_ request: PassThroughRequest, for chip: ChipID) throws -> Bool {
        let confined = try Self.confine(request, to: chip.rawValue)
        return confined.method != "GET" && !Self.isQuiet(confined)
    }

    /// Calls that change nothing another account sees as a message, and that clients make often:
    /// read receipts, typing and presence, starring, blocking, archiving, labels, pairing, local
    /// chat clean-up, channel search and follow, media conversion, rejecting a call.
    static func isQuiet(_ request: PassThroughRequest) -> Bool {
        let path = request.path
        guard path.count >= 2 else { return false }
        let root = path[1]
        if sessionlessRoots.contains(root) {
            return ["sendSeen", "startTyping", "stopTyping", "star"].contains(root)
                || path == ["api", "contacts", "block"] || path == ["api", "contacts", "unblock"]
        }
        let rest = Array(path.dropFirst(2))
        guard let first = rest.first else { return false }
        switch first {
        case "auth", "labels", "presence": return true
        case "media": return rest.count >= 2 && rest[1] == "convert"
        case "calls": return rest == ["calls", "reject"]
        case "groups": return rest == ["groups", "refresh"]
        case "contacts": return rest.count == 2 && request.method == "PUT"
        case "channels":
            return (rest.count >= 2 && rest[1] == "search") || (rest.count == 3 && ["follow", "unfollow", "mute", "unmute"].contains(rest[2]))
        case "chats":
            if rest == ["chats", "overview"] { return true }
            if rest.count == 3, ["archive", "unarchive", "unread"].contains(rest[2]) { return true }
            if rest.count == 4, rest[2] == "messages", rest[3] == "read" { return true }
            // Deleting a chat, or clearing its messages, is this account's own clean-up.
            return request.method == "DELETE" && (rest.count == 2 || (rest.count == 3 && rest[2] == "messages"))
        default: return false
        }
    }

    /// The request confined to `session`, or `invalid_request` saying why it cannot be.
    static func confine(_ request: PassThroughRequest, to session: String) throws -> PassThroughRequest {
        var request = request
        guard ["GET", "POST", "PUT", "PATCH", "DELETE"].contains(request.method) else {
            throw WhagoError(.invalidRequest, "the pass-through forwards GET, POST, PUT, PATCH and DELETE, not \(WorkerText.clean(request.method, limit: 16))")
        }
        if let bad = request.path.first(where: { $0.isEmpty || $0 == "." || $0 == ".." }) {
            throw WhagoError(.invalidRequest, bad.isEmpty ? "the pass-through path has an empty segment" : "the pass-through path may not contain '\(bad)'")
        }
        guard request.path.first == "api", request.path.count >= 2 else {
            throw WhagoError(.invalidRequest, "the pass-through reaches WAHA's /api/… endpoints of the chip's session only "
                + "(the worker's /ping, /health and dashboard are whago's to watch)")
        }
        let root = request.path[1]
        var sessionless = false
        if workerWideRoots.contains(root) {
            throw WhagoError(.invalidRequest, "/api/\(root) acts on the whole worker, which other chips share; it is not passed through")
        } else if root == "sessions" {
            guard request.path.count >= 3 else {
                throw WhagoError(.invalidRequest, "whago creates and lists sessions: use /api/v1/chips instead of /api/sessions")
            }
            guard request.method == "GET" else {
                throw WhagoError(.invalidRequest, "whago drives the session's life cycle and configuration: use /api/v1/chips/{id}/restart, "
                    + "/logout or DELETE /api/v1/chips/{id} instead of \(request.method) /api/sessions/{session}/…")
            }
            request.path[2] = session
        } else if sessionlessRoots.contains(root) {
            sessionless = true
        } else {
            // `/api/{session}/…`: whatever the tenant wrote there is the chip's session.
            request.path[1] = session
        }
        var forced = false
        request.query = request.query.map { item in
            guard item.name == "session" else { return item }
            forced = true
            return .init(name: "session", value: session)
        }
        if sessionless, !forced, request.method == "GET" || request.method == "DELETE" {
            request.query.append(.init(name: "session", value: session))
        }
        request.body = try confineBody(request, to: session, add: sessionless)
        if isJSON(request.contentType) || (sessionless && !request.body.isEmpty) { request.contentType = "application/json" }
        return request
    }

    /// A JSON object body with its `session` set to the chip's (added when `add`); other bodies
    /// as they are, except that an endpoint without a session place takes JSON objects only.
    private static func confineBody(_ request: PassThroughRequest, to session: String, add: Bool) throws -> [UInt8] {
        guard !request.body.isEmpty else {
            return add && ["POST", "PUT", "PATCH"].contains(request.method) ? Array(#"{"session":"\#(session)"}"#.utf8) : []
        }
        guard isJSON(request.contentType) || add else { return request.body }
        guard var object = (try? JSONSerialization.jsonObject(with: Data(request.body), options: [])) as? [String: Any] else {
            throw WhagoError(.invalidRequest, add || request.contentType == nil
                ? "the body must be a JSON object (Content-Type: application/json) so that whago can set its session"
                : "the JSON body is malformed or not an object")
        }
        if add || object["session"] != nil { object["session"] = session }
        return Array(try JSONSerialization.data(withJSONObject: object, options: [.withoutEscapingSlashes]))
    }

    private static func isJSON(_ contentType: String?) -> Bool {
        guard let type = contentType?.split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased() else { return false }
        return type == "application/json" || type.hasSuffix("+json")
    }

    private static func queryEscaped(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: queryUnreserved) ?? text
    }

    private static let queryUnreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
}
