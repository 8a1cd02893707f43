import CurlHTTP
import Foundation
import Testing
import WhagoTesting

@Suite("CurlHTTP does not leak")
struct LeakTests {
    private func openDescriptors() throws -> Int {
        try FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count
    }

    @Test("5,000 requests leave no file descriptor or handle behind")
    func noDescriptorLeak() async throws {
        let client = HTTPClient()
        let url = try await TestHTTPServer.baseURL + "/hello"
        for _ in 0..<50 { _ = try await client.execute(HTTPClientRequest(.get, url)) }
        let before = try openDescriptors()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for worker in 0..<10 {
                group.addTask {
                    for index in 0..<500 {
                        // A few failures and cancellations too: their handles must be freed as well.
                        if index % 100 == 0 {
                            _ = try? await client.execute(HTTPClientRequest(.get, "http://127.0.0.1:9/"))
                        }
                        let response = try await client.execute(HTTPClientRequest(.get, url))
                        #expect(response.status == 200, "worker \(worker)")
                    }
                }
            }
            try await group.waitForAll()
        }
        client.shutdown()
        let after = try openDescriptors()
        // Other suites run in parallel in this process and open descriptors of their own; a leak
        // of one descriptor per request would add thousands.
        #expect(after <= before + 40, "descriptors before: \(before), after: \(after)")
    }
}
