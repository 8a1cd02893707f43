import Foundation
import WhagoCore

/// Whether whago can listen on an address now: binds a socket there as the HTTP server will (the
/// first address the host resolves to, `SO_REUSEADDR`) and closes it at once. `serve` asks before
/// it touches the data directory or the store, so a busy port stops it with nothing written;
/// `doctor` reports the answer.
enum ListenCheck {
    /// Why `address` cannot be listened on now (`cannot listen on HOST:PORT: address already in
    /// use`), or nil when it can (port 0, any free port, always can).
    static func problem(_ address: HostPort) -> String? {
        guard address.port != 0 else { return nil }
        switch bindError(host: address.host, port: address.port) {
        case nil: return nil
        case .resolution(let reason): return "cannot listen on \(address): cannot resolve '\(address.host)': \(reason)"
        case .system(let code): return "cannot listen on \(address): \(String(cString: strerror(code)).lowercased())"
        }
    }

    enum Failure: Equatable {
        case resolution(String)
        case system(Int32)
    }

    /// The error binding `host:port` fails with, or nil.
    static func bindError(host: String, port: Int) -> Failure? {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV
        var results: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, "\(port)", &hints, &results)
        guard status == 0, let first = results else { return .resolution(String(cString: gai_strerror(status))) }
        defer { freeaddrinfo(first) }
        let descriptor = socket(first.pointee.ai_family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { return .system(errno) }
        defer { close(descriptor) }
        var one: Int32 = 1
        _ = setsockopt(descriptor, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        guard bind(descriptor, first.pointee.ai_addr, first.pointee.ai_addrlen) == 0, listen(descriptor, 1) == 0 else { return .system(errno) }
        return nil
    }
}
