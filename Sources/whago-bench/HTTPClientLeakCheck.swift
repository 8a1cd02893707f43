import CurlHTTP
import Foundation
import WhagoTesting

/// `whago-bench http-client-leaks`: 5,000 requests (some refused, from 10 tasks) through one
/// client against a server of its own, then prints `descriptors before=N after=M` once the
/// client is shut down and the server has closed its side. Run as a
/// process of its own by the leak test, so that no other test's descriptors are counted.
enum HTTPClientLeakCheck {
    static func run(server: HTTPClientBenchmark) async throws {
        let port = try await server.startServer()
        let url = "http://127.0.0.1:\(port)/hello"
        let refusing = try RefusingPort()
        let client = HTTPClient()
        for _ in 0..<50 { _ = try await client.execute(HTTPClientRequest(.get, url)) }
        let before = openDescriptors()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<10 {
                group.addTask {
                    for index in 0..<500 {
                        // A few failures too: their handles must be freed as well.
                        if index % 100 == 0 { _ = try? await client.execute(HTTPClientRequest(.get, refusing.url + "/")) }
                        let response = try await client.execute(HTTPClientRequest(.get, url))
                        guard response.status == 200 else { throw BenchError("status \(response.status)") }
                    }
                }
            }
            try await group.waitForAll()
        }
        client.shutdown()
        // The server (in this process) closes its side of each connection when it sees the
        // client's close, a moment later: wait for that, for a while. A leak never settles.
        let deadline = ContinuousClock.now + .seconds(10)
        while openDescriptors() > before, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        print("descriptors before=\(before) after=\(openDescriptors())")
    }

    private static func openDescriptors() -> Int {
        (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count) ?? -1
    }
}
