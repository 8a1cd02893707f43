import Foundation
import Testing

/// microsocks on 127.0.0.1, with a username and password or without, owned by the test (so it can
/// be stopped): the real SOCKS5 server.
public struct SOCKSServer: Sendable {
    public let process: ChildProcess
    public let port: Int

    /// Debian's microsocks.
    public static let binary: String? = ["/usr/bin/microsocks", "/usr/local/bin/microsocks"].first { FileManager.default.isExecutableFile(atPath: $0) }

    /// Starts it on a free port and waits until it accepts connections; without a username it
    /// asks for no authentication.
    public static func start(username: String? = nil, password: String? = nil) async throws -> SOCKSServer {
        let binary = try #require(binary, Comment(rawValue: TestServices.missing("microsocks")))
        let port = try freePort()
        var arguments = ["-i", "127.0.0.1", "-p", "\(port)"]
        if let username, let password { arguments += ["-u", username, "-P", password] }
        let process = try ChildProcess(binary, arguments)
        let deadline = ContinuousClock.now + .seconds(10)
        while !acceptsConnections(port: port) {
            guard ContinuousClock.now < deadline else {
                process.signal(SIGKILL)
                throw ChildProcessError("microsocks did not start on 127.0.0.1:\(port)")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        return SOCKSServer(process: process, port: port)
    }

    /// Kills it.
    public func stop() async throws {
        process.signal(SIGKILL)
        _ = try await process.waitForTermination()
    }
}
