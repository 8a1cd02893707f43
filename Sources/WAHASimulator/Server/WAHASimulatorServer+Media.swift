import CurlHTTP
import Foundation
import Hummingbird
import WhagoCore

extension WAHASimulatorServer {
    /// Media sends and link previews, fetching what they name as WAHA does: `file.url` downloaded
    /// by the worker itself (WAHA's `fetchBuffer`, src/utils/fetch.ts: axios GET of any URL, no
    /// proxy), a send failing when the download does; `sendLinkPreview`'s `url` likewise; and in
    /// `sendText`, a preview of the first link unless `linkPreview` is false (GOWS defaults it to
    /// true, src/core/engines/gows/session.gows.core.ts), its failure ignored. So a URL whago let
    /// through is fetched here, from the worker's network, as it would be by WAHA.
    func addMediaRoutes(to router: Router<BasicRequestContext>) {
        router.post("/api/sendText") { request, _ in
            await Reply.handle {
                let body = try await Reply.body(request)
                guard let session = body["session"]?.stringValue, let chatID = body["chatId"]?.stringValue,
                      let text = body["text"]?.stringValue else {
                    throw SimulatorError.badRequest("session, chatId and text are required strings")
                }
                if body["linkPreview"] != .bool(false), let link = text.firstMatch(of: /https?:\/\/[^\s<>"']+/)?.output {
                    _ = try? await Self.fetch(String(link))
                }
                return Reply.json(try await sessions.sendText(session, chatID: chatID, text: text), status: 201)
            }
        }
        for endpoint in ["sendImage", "sendFile", "sendVoice", "sendVideo"] {
            router.post("/api/\(endpoint)") { request, _ in
                await Reply.handle {
                    let body = try await Reply.body(request)
                    guard let session = body["session"]?.stringValue, let chatID = body["chatId"]?.stringValue, let file = body["file"] else {
                        throw SimulatorError.badRequest("session, chatId and file are required")
                    }
                    if let url = file["url"]?.stringValue {
                        try await Self.fetch(url)
                    } else if file["data"]?.stringValue.flatMap({ Data(base64Encoded: $0) }) == nil {
                        throw SimulatorError.badRequest("file must have a url or base64 data")
                    }
                    return Reply.json(try await sessions.sendText(session, chatID: chatID, text: body["caption"]?.stringValue ?? ""), status: 201)
                }
            }
        }
        router.post("/api/sendLinkPreview") { request, _ in
            await Reply.handle {
                let body = try await Reply.body(request)
                guard let session = body["session"]?.stringValue, let chatID = body["chatId"]?.stringValue, let url = body["url"]?.stringValue else {
                    throw SimulatorError.badRequest("session, chatId and url are required strings")
                }
                try await Self.fetch(url)
                return Reply.json(try await sessions.sendText(session, chatID: chatID, text: url), status: 201)
            }
        }
    }

    /// Downloads `url` as WAHA's worker would; a failure is WAHA's 500.
    private static func fetch(_ url: String) async throws {
        do {
            let response = try await HTTPClient.shared.execute(HTTPClientRequest(.get, url, timeout: .seconds(10), maxBodySize: 64 << 20))
            guard (200..<300).contains(response.status) else { throw SimulatorError.internalError("fetching \(url) answered \(response.status)") }
        } catch let error as HTTPClientError {
            throw SimulatorError.internalError("fetching \(url) failed: \(error.message)")
        }
    }
}
