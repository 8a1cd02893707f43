import Foundation
import Synchronization

/// Ports handed out by ``freePort()`` in this process, and where the next search starts.
private let portCursor = Mutex<(next: Int, given: Set<Int>)>((20_000 + Int(getpid()) * 37 % 12_000, []))

/// A TCP port on 127.0.0.1 that nothing listens on now, for a server that must be told its port
/// before it starts (a worker, a container).
///
/// Never the kernel's pick: ports from the ephemeral range (32768 and up) are also the local ports
/// of outgoing connections, so one could be taken between this call and the server's bind. These
/// come from 20000-31999 instead, starting at a place that depends on the pid (so two test
/// processes rarely search the same ports), and none is handed out twice by one process. Servers
/// that can bind port 0 and report it should do that instead.
public func freePort() throws -> Int {
    try portCursor.withLock { cursor in
        for _ in 0..<12_000 {
            let port = cursor.next
            cursor.next = port == 31_999 ? 20_000 : port + 1
            guard !cursor.given.contains(port), canBind(port: port) else { continue }
            cursor.given.insert(port)
            return port
        }
        throw POSIXError(.EADDRINUSE)
    }
}

/// `count` consecutive free ports (see ``freePort()``), for a runtime's worker port pool.
public func freePortRange(count: Int) throws -> ClosedRange<Int> {
    try portCursor.withLock { cursor in
        for _ in 0..<12_000 {
            let first = cursor.next
            guard first + count - 1 <= 31_999 else {
                cursor.next = 20_000
                continue
            }
            let ports = first...(first + count - 1)
            cursor.next = ports.upperBound == 31_999 ? 20_000 : ports.upperBound + 1
            guard ports.allSatisfy({ !cursor.given.contains($0) && canBind(port: $0) }) else { continue }
            cursor.given.formUnion(ports)
            return ports
        }
        throw POSIXError(.EADDRINUSE)
    }
}

/// Whether 127.0.0.1:`port` can be bound now.
private func canBind(port: Int) -> Bool {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    defer { close(fd) }
    var address = loopback(port: port)
    return withUnsafePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
    }
}

private func loopback(port: Int) -> sockaddr_in {
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    return address
}

/// Whether something accepts TCP connections on 127.0.0.1:`port`.
public func acceptsConnections(port: Int) -> Bool {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    defer { close(fd) }
    var address = loopback(port: port)
    return withUnsafePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
    }
}

/// A socket bound to a port the kernel picked on 127.0.0.1, listening or not: the descriptor and port.
private func loopbackSocket(listening: Bool) throws -> (descriptor: Int32, port: Int) {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    var address = loopback(port: 0)
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let ready = withUnsafeMutablePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            bind(fd, $0, length) == 0 && (!listening || listen(fd, 64) == 0) && getsockname(fd, $0, &length) == 0
        }
    }
    guard ready else {
        close(fd)
        throw POSIXError(.EADDRINUSE)
    }
    return (fd, Int(UInt16(bigEndian: address.sin_port)))
}

/// A port on 127.0.0.1 that refuses every connection for as long as this value lives: bound (so
/// no one else can listen on it) but never listening. For tests of an unreachable peer, instead
/// of a fixed port that something might listen on.
public final class RefusingPort: Sendable {
    /// The port.
    public let port: Int
    private let descriptor: Int32

    public init() throws {
        (descriptor, port) = try loopbackSocket(listening: false)
    }

    /// `http://127.0.0.1:<port>`.
    public var url: String { "http://127.0.0.1:\(port)" }

    deinit { close(descriptor) }
}

/// A port on 127.0.0.1 that accepts connections and never answers: for tests that a call to a
/// peer that hangs returns in bounded time. Open while this value lives.
public final class SilentPort: Sendable {
    /// The port.
    public let port: Int
    private let descriptor: Int32

    public init() throws {
        (descriptor, port) = try loopbackSocket(listening: true)
    }

    /// `http://127.0.0.1:<port>`.
    public var url: String { "http://127.0.0.1:\(port)" }

    deinit { close(descriptor) }
}
