import Foundation
import Testing
import WhagoCore
import WhagoTesting

@Suite("Reading /proc")
struct ProcFileTests {
    @Test("a /proc file is read to its end, past its first page: 200 listening sockets in /proc/net/tcp, a 20 KB environment")
    func wholeFiles() async throws {
        // 200 listeners make /proc/net/tcp far longer than a page (4 KiB, 150 bytes a line).
        let listeners = try (0..<200).map { _ in try SilentPort() }
        let table = try #require(ProcFile.text("/proc/net/tcp"))
        #expect(table.utf8.count > 200 * 100, "\(table.utf8.count) bytes")
        for listener in listeners {
            let local = String(format: ":%04X ", listener.port)
            #expect(table.contains("0100007F" + local), "127.0.0.1:\(listener.port) listening is in the table")
        }

        let child = try ChildProcess("/bin/sleep", ["30"], environment: ["WHAGO_TEST_BIG": String(repeating: "x", count: 20_000), "WHAGO_TEST_Z_LAST": "end"])
        // posix_spawn returns before the child has exec'd; until then /proc shows the parent's
        // image. Await the exec (its command line is sleep's).
        let deadline = ContinuousClock.now + .seconds(30)
        while ProcFile.text("/proc/\(child.pid)/cmdline")?.hasPrefix("/bin/sleep") != true, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(5))
        }
        let environment = ProcFile.read("/proc/\(child.pid)/environ") ?? []
        child.signal(SIGKILL)
        _ = try await child.waitForTermination()
        let variables = environment.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
        #expect(variables.contains("WHAGO_TEST_Z_LAST=end"))
        #expect(variables.contains { $0.hasPrefix("WHAGO_TEST_BIG=") && $0.count == "WHAGO_TEST_BIG=".count + 20_000 })
        #expect(ProcFile.read("/proc/no-such-file") == nil)
    }
}
