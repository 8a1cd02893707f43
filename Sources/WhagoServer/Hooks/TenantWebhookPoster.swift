import CurlHTTP
public import Foundation
public import Orchestrator
public import WhagoCore

/// Tenant webhooks over HTTP: the event's JSON, signed (``TenantWebhookSignature``), POSTed through
/// libcurl only to the addresses `webhooks.*` permits — checked on the address connected to, so a
/// name that resolves elsewhere later gains nothing.
public final class TenantWebhookPoster: TenantWebhookTransport {
    let client: HTTPClient
    let policy: AddressPolicy

    public init(_ settings: WebhooksConfig) {
        var configuration = HTTPClient.Configuration()
        configuration.timeout = settings.timeout.duration
        configuration.connectTimeout = min(settings.timeout.duration, .seconds(5))
        configuration.maxBodySize = 64 << 10
        self.client = HTTPClient(configuration: configuration)
        self.policy = settings.addressPolicy
    }

    public func post(_ entry: OutboxEntry, to url: URL, secrets: [Secret]) async -> TenantWebhookAttempt {
        let body: [UInt8]
        do {
            body = Array(try RFC3339Transcoder.jsonEncoder.encode(TenantWebhookBody(entry)))
        } catch {
            return .refused("the event cannot be encoded")
        }
        var request = HTTPClientRequest(.post, url.absoluteString, body: body)
        let policy = self.policy
        if !policy.allowPrivateNetworks {
            request.allowsAddress = { bytes in NetworkAddress(bytes: bytes).map(policy.permits) ?? false }
        }
        request.addHeader("Content-Type", "application/json")
        request.addHeader("User-Agent", "whago/\(WhagoVersion.current)")
        request.addHeader(TenantWebhookSignature.eventIDHeader, entry.id.rawValue)
        request.addHeader(TenantWebhookSignature.header, TenantWebhookSignature.sign(body, secrets: secrets, at: Date()))
        do {
            let response = try await client.execute(request)
            return (200..<300).contains(response.status) ? .delivered : .failed("HTTP \(response.status)")
        } catch let error as HTTPClientError where error.kind == .addressNotAllowed {
            // Final: retrying cannot help, and the reason says nothing of the network behind the name.
            return .refused("the webhook URL's host is not a public address (webhooks.allowPrivateNetworks, webhooks.allowedNetworks)")
        } catch let error as HTTPClientError {
            // The kind only: curl's message names the URL, which may hold credentials.
            return .failed("\(error.kind)")
        } catch {
            return .failed("\(type(of: error))")
        }
    }

    public func shutdown() { client.shutdown() }
}
