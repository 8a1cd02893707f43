import WhagoCore

/// The JSON bodies whago sends to WAHA, in one place so that tests hold each one to WAHA's
/// OpenAPI spec (`SessionCreateRequest`, `SessionUpdateRequest`, `MessageTextRequest`,
/// `RequestCodeRequest`).
enum WAHARequests {
    /// `POST /api/sessions`: create and start.
    static func createSession(name: String, config: JSONValue) -> JSONValue {
        .object(["name": .string(name), "start": .bool(true), "config": config])
    }

    /// `PUT /api/sessions/{session}`.
    static func updateSession(config: JSONValue) -> JSONValue {
        .object(["config": config])
    }

    /// `POST /api/sendText`; without a link preview (which the worker would fetch) when a link
    /// of the text is not one it may fetch.
    static func sendText(session: String, _ message: OutgoingText, linkPreview: Bool = true) -> JSONValue {
        var body: [String: JSONValue] = ["session": .string(session), "chatId": .string(message.chatID), "text": .string(message.text)]
        if !linkPreview { body["linkPreview"] = .bool(false) }
        return .object(body)
    }

    /// `POST /api/{session}/auth/request-code`.
    static func requestCode(phoneNumber: String) -> JSONValue {
        .object(["phoneNumber": .string(phoneNumber)])
    }
}
