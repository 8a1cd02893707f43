import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import WhagoCore

/// The web console: static HTML, CSS and ES modules embedded in the binary (no Node toolchain,
/// no CDN, nothing fetched from the internet), served at `/` with its modules under `/assets/`.
/// `/console` redirects to `/`. The console talks to the REST API with the key it keeps in
/// `sessionStorage`; every page carries a strict Content-Security-Policy.
enum ConsoleRoutes {
    /// One embedded file.
    struct Asset: Sendable {
        let bytes: [UInt8]
        let contentType: String
        /// A strong validator: the content's SHA-256, so a new build is fetched again.
        let etag: String

        init(_ bytes: [UInt8], _ contentType: String) {
            self.bytes = bytes
            self.contentType = contentType
            self.etag = "\"" + SHA256.hash(data: bytes).prefix(12).map { String(format: "%02x", $0) }.joined() + "\""
        }
    }

    static let index = Asset(PackageResources.index_html, "text/html; charset=utf-8")

    /// The files under `/assets/`, by name.
    static let assets: [String: Asset] = [
        "console.css": Asset(PackageResources.console_css, "text/css; charset=utf-8"),
        "app.js": Asset(PackageResources.app_js, "text/javascript; charset=utf-8"),
        "api.js": Asset(PackageResources.api_js, "text/javascript; charset=utf-8"),
        "dom.js": Asset(PackageResources.dom_js, "text/javascript; charset=utf-8"),
        "events.js": Asset(PackageResources.events_js, "text/javascript; charset=utf-8"),
        "login.js": Asset(PackageResources.login_js, "text/javascript; charset=utf-8"),
        "chips.js": Asset(PackageResources.chips_js, "text/javascript; charset=utf-8"),
        "chip.js": Asset(PackageResources.chip_js, "text/javascript; charset=utf-8"),
        "create.js": Asset(PackageResources.create_js, "text/javascript; charset=utf-8"),
        "admin.js": Asset(PackageResources.admin_js, "text/javascript; charset=utf-8"),
        "favicon.svg": Asset(PackageResources.favicon_svg, "image/svg+xml"),
    ]

    /// The console's routes, as `METHOD /path` lines (for 405 answers).
    static let routes = ["GET /", "GET /console", "GET /assets/{file}"]

    /// Only this origin's scripts, styles and API; images may also be the QR codes the console
    /// makes into `data:`/`blob:` URLs; no frames, no forms posted anywhere, no base changes.
    static let contentSecurityPolicy = [
        "default-src 'none'", "script-src 'self'", "style-src 'self'", "img-src 'self' data: blob:", "connect-src 'self'",
        "form-action 'none'", "frame-ancestors 'none'", "base-uri 'none'",
    ].joined(separator: "; ")

    static func register<Context: RequestContext>(on router: Router<Context>) {
        router.get("/") { request, _ in serve(index, request) }
        // `/console/` too: the router ignores a trailing slash.
        router.get("/console") { _, _ in Response.redirect(to: "/", type: .found) }
        router.get("/assets/:file") { request, context in
            guard let name = context.parameters.get("file"), let asset = assets[name] else {
                throw ErrorResponse("not_found", "no console file \(WorkerText.clean(request.uri.path, limit: 200))")
            }
            return serve(asset, request)
        }
    }

    /// The asset with the console's security headers, or 304 when the client has this version.
    static func serve(_ asset: Asset, _ request: Request) -> Response {
        var headers = HTTPFields()
        headers[.contentSecurityPolicy] = contentSecurityPolicy
        headers[.xContentTypeOptions] = "nosniff"
        headers[HTTPField.Name("Referrer-Policy")!] = "no-referrer"
        headers[HTTPField.Name("X-Frame-Options")!] = "DENY"
        headers[HTTPField.Name("Cross-Origin-Opener-Policy")!] = "same-origin"
        headers[.cacheControl] = "no-cache"
        headers[.eTag] = asset.etag
        if let presented = request.headers[.ifNoneMatch], presented.split(separator: ",").contains(where: {
            // If-None-Match compares weakly: W/"x" matches "x".
            let tag = $0.trimmingCharacters(in: .whitespaces)
            return (tag.hasPrefix("W/") ? String(tag.dropFirst(2)) : tag) == asset.etag || tag == "*"
        }) {
            return Response(status: .notModified, headers: headers)
        }
        headers[.contentType] = asset.contentType
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: asset.bytes)))
    }
}
