public import Hummingbird
public import NIOCore

/// The request context of whago's router: Hummingbird's basic one plus the client's address, which
/// the failed-authentication limit is keyed by.
public struct WhagoRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The peer of the connection (a proxy's when whago is behind one).
    public let remoteAddress: SocketAddress?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }
}

/// The address of the client whose request is being handled, as text (`127.0.0.1`, `::1`), for
/// limits keyed by client.
enum ClientAddress {
    @TaskLocal static var current: String?
}
