import Foundation

/// tinyproxy on 127.0.0.1 with basic authentication, owned by the test: a real HTTP proxy
/// (absolute-form requests, and CONNECT to any port) for what only speaks HTTP to a proxy — WAHA's
/// engines — as microsocks is the real SOCKS5 server. Its port is the caller's (a DataImpulse
/// sticky port) or a free one.
public struct HTTPProxyServer: Sendable {
    public let process: ChildProcess
    public let port: Int
    let directory: TemporaryDirectory

    /// Debian's tinyproxy.
    public static let binary: String? = ["/usr/bin/tinyproxy", "/usr/sbin/tinyproxy"].first { FileManager.default.isExecutableFile(atPath: $0) }

    /// Starts it and waits until it accepts connections. tinyproxy's `BasicAuth` takes names and
    /// passwords of letters, digits and `-._` only.
    public static func start(port: Int? = nil, username: String, password: String) async throws -> HTTPProxyServer {
        guard let binary else { throw ChildProcessError(TestServices.missing("tinyproxy")) }
        let port = try port ?? freePort()
        let directory = try TemporaryDirectory("tinyproxy")
        // No ConnectPort line: CONNECT to every port (the default file allows 443 and 563 only).
        let config = try directory.write("tinyproxy.conf", """
            Port \(port)
            Listen 127.0.0.1
            Timeout 30
            MaxClients 64
            Allow 127.0.0.1
            BasicAuth \(username) \(password)
            DisableViaHeader Yes
            LogLevel Error
            """)
        let process = try ChildProcess(binary, ["-d", "-c", config])
        let deadline = ContinuousClock.now + .seconds(20)
        while !acceptsConnections(port: port) {
            guard ContinuousClock.now < deadline else {
                process.signal(SIGKILL)
                throw ChildProcessError("tinyproxy did not start on 127.0.0.1:\(port): \(process.standardError)")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        return HTTPProxyServer(process: process, port: port, directory: directory)
    }

    /// Kills it (a proxy that vanishes, as a test wants) and removes its files.
    public func stop() async throws {
        process.signal(SIGKILL)
        _ = try await process.waitForTermination()
        directory.remove()
    }
}
