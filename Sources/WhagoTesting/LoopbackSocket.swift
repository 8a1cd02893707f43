import Foundation

/// A raw TCP connection to 127.0.0.1, for tests that misbehave below HTTP (half a request, then
/// silence) where an HTTP client would not.
public final class LoopbackSocket: @unchecked Sendable {
    private let fd: Int32

    private init(fd: Int32) { self.fd = fd }

    /// Connects to 127.0.0.1:`port`.
    public static func connect(port: Int) throws -> LoopbackSocket {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { Foundation.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            let code = errno
            Foundation.close(fd)
            throw POSIXError(POSIXErrorCode(rawValue: code) ?? .ECONNREFUSED)
        }
        return LoopbackSocket(fd: fd)
    }

    /// Writes all of `text`.
    public func send(_ text: String) throws {
        var bytes = Array(text.utf8)[...]
        while !bytes.isEmpty {
            let written = bytes.withUnsafeBytes { Foundation.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard written > 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
            bytes = bytes.dropFirst(written)
        }
    }

    /// How a read ended.
    public enum Ending: Sendable, Equatable {
        /// The peer closed the connection (or reset it).
        case closed
        /// Nothing came and the connection stayed open for the whole timeout.
        case stillOpen
    }

    /// Reads (and drops) what comes until the peer closes the connection or `timeout` passes
    /// without it closing. The waiting is done on a thread of its own, never on one of the
    /// concurrency pool's (a test process has as few as two: blocking one for seconds would stall
    /// every server and client of the process meanwhile).
    public func readUntilClosed(timeout: Duration) async throws -> Ending {
        try await Self.offPool { try self.blockingReadUntilClosed(timeout: timeout) }
    }

    /// What the peer sends until it closes the connection, or nil when nothing came within
    /// `timeout` (the connection left open). Waits off the concurrency pool.
    public func readAnswer(timeout: Duration) async throws -> String? {
        try await Self.offPool { try self.blockingReadAnswer(timeout: timeout) }
    }

    /// The first bytes the peer sends, or nil when nothing came within `timeout` (or it closed).
    /// Waits off the concurrency pool.
    public func readSome(timeout: Duration) async throws -> String? {
        try await Self.offPool { try self.blockingReadAnswer(timeout: timeout, firstChunk: true) }
    }

    private static func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread { continuation.resume(with: Result { try body() }) }
        }
    }

    private func blockingReadUntilClosed(timeout: Duration) throws -> Ending {
        let deadline = ContinuousClock.now + timeout
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let left = deadline - ContinuousClock.now
            guard left > .zero else { return .stillOpen }
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&poller, 1, Int32(min(left.components.seconds * 1000 + 1, 1000)))
            if ready < 0, errno != EINTR { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
            guard ready > 0 else { continue }
            let count = read(fd, &buffer, buffer.count)
            if count == 0 { return .closed }
            if count < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                return .closed
            }
        }
    }

    private func blockingReadAnswer(timeout: Duration, firstChunk: Bool = false) throws -> String? {
        let deadline = ContinuousClock.now + timeout
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let left = deadline - ContinuousClock.now
            guard left > .zero else { return received.isEmpty ? nil : String(decoding: received, as: UTF8.self) }
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&poller, 1, Int32(min(left.components.seconds * 1000 + Int64(left.components.attoseconds / 1_000_000_000_000_000) + 1, 1000)))
            if ready < 0, errno != EINTR { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
            guard ready > 0 else { continue }
            let count = read(fd, &buffer, buffer.count)
            if count <= 0 { return received.isEmpty ? nil : String(decoding: received, as: UTF8.self) }
            received += buffer[0..<count]
            if firstChunk { return String(decoding: received, as: UTF8.self) }
        }
    }

    public func close() { Foundation.close(fd) }
}
