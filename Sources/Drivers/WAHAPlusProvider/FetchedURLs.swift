import Foundation
public import WhagoCore

/// `sessions.waha-plus.mediaURLs`: which URLs a tenant may make a worker fetch. WAHA downloads a
/// media's `file.url` itself (`fetchBuffer`: axios, any scheme, redirects followed, certificates
/// not checked) and GOWS and NOWEB fetch a link preview of the first link in a text unless
/// `linkPreview` is false, so an unchecked URL lets a tenant read a node's loopback, the cloud's
/// metadata service or the Docker API into its own chat.
///
/// ```yaml
/// mediaURLs:
///   allowHTTP: false              # https only
///   allowPrivateNetworks: false   # public addresses only …
///   allowedNetworks: []           # … and these ranges
/// ```
public struct MediaURLPolicy: Decodable, Sendable, Hashable {
    /// Plain `http://` URLs allowed too.
    public var allowHTTP: Bool
    /// Which addresses a URL's host may resolve to.
    public var addresses: AddressPolicy

    enum CodingKeys: String, CodingKey, CaseIterable {
        case allowHTTP, allowPrivateNetworks, allowedNetworks
    }

    public init(allowHTTP: Bool = false, addresses: AddressPolicy = AddressPolicy()) {
        self.allowHTTP = allowHTTP
        self.addresses = addresses
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(allowHTTP: try container.decodeIfPresent(Bool.self, forKey: .allowHTTP) ?? false,
                  addresses: AddressPolicy(allowPrivateNetworks: try container.decodeIfPresent(Bool.self, forKey: .allowPrivateNetworks) ?? false,
                                           allowed: try container.decodeIfPresent([NetworkRange].self, forKey: .allowedNetworks) ?? []))
    }
}

/// The URLs in a request body that a worker would fetch, checked against a ``MediaURLPolicy``.
struct FetchedURLs {
    let policy: MediaURLPolicy
    /// A host's addresses (the system resolver; a test's own).
    var resolve: @Sendable (String) async -> [NetworkAddress] = { await HostResolver.addresses(of: $0) }

    /// Refuses (`invalid_request`) a body whose `url` members (anywhere but in `buttons`, which
    /// are links shown, not fetched) are not allowed, and turns link previews off (`linkPreview:
    /// false`) when a link in its `text` is not allowed; `data` (base64) media is not a URL.
    /// Returns the body to send.
    func check(_ body: [UInt8], path: [String]) async throws -> [UInt8] {
        guard !body.isEmpty, var object = (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] else { return body }
        for (member, url) in Self.urls(in: object, at: "") {
            if let problem = await problem(url, mustBeSecure: true) {
                throw WhagoError(.invalidRequest, "\(member): \(problem); a worker would fetch it (send the media as base64 data instead, "
                    + "or allow it with sessions.waha-plus.mediaURLs)")
            }
        }
        // `send/link-custom-preview` brings its own preview; a preview is fetched for the others.
        let customPreview = path.count >= 3 && path[1] == "send" && path[2] == "link-custom-preview"
        if !customPreview, let text = object["text"] as? String, (object["linkPreview"] as? Bool) != false {
            for link in Self.links(in: text) where await problem(link, mustBeSecure: false) != nil {
                object["linkPreview"] = false
                return Array(try JSONSerialization.data(withJSONObject: object, options: [.withoutEscapingSlashes]))
            }
        }
        return body
    }

    /// Whether a link in `text` may be previewed (every link's host allowed).
    func previewAllowed(_ text: String) async -> Bool {
        for link in Self.links(in: text) where await problem(link, mustBeSecure: false) != nil { return false }
        return true
    }

    /// Why `text` may not be fetched, or nil. Says nothing of what the host resolved to.
    private func problem(_ text: String, mustBeSecure: Bool) async -> String? {
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), let host = url.host(percentEncoded: false), !host.isEmpty else {
            return "'\(WorkerText.clean(text, limit: 200))' is not a URL"
        }
        guard scheme == "https" || (scheme == "http" && (policy.allowHTTP || !mustBeSecure)) else {
            return "only https URLs are fetched (\(scheme) is refused\(scheme == "http" ? "; mediaURLs.allowHTTP allows it" : ""))"
        }
        let bare = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        let addresses = await resolve(bare)
        guard !addresses.isEmpty else { return "its host \(WorkerText.clean(bare, limit: 100)) does not resolve" }
        guard addresses.allSatisfy(policy.addresses.permits) else {
            return "its host \(WorkerText.clean(bare, limit: 100)) is not a public address (mediaURLs.allowPrivateNetworks, allowedNetworks)"
        }
        return nil
    }

    /// `url` members of `value` with where they are (`file.url`), except under `buttons`.
    static func urls(in value: Any, at path: String) -> [(member: String, url: String)] {
        if let object = value as? [String: Any] {
            return object.keys.sorted().flatMap { key -> [(member: String, url: String)] in
                let member = path.isEmpty ? key : "\(path).\(key)"
                if key == "buttons" { return [] }
                if key == "url", let url = object[key] as? String { return [(member, url)] }
                return urls(in: object[key] as Any, at: member)
            }
        }
        if let array = value as? [Any] {
            return array.enumerated().flatMap { urls(in: $0.element, at: "\(path)[\($0.offset)]") }
        }
        return []
    }

    /// The http(s) links in a text, as WhatsApp clients find them.
    static func links(in text: String) -> [String] {
        text.matches(of: /https?:\/\/[^\s<>"']+/.ignoresCase()).map { String($0.output) }
    }
}
