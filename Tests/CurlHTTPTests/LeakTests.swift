import Foundation
import Testing
import WhagoTesting

@Suite("CurlHTTP does not leak", .timeLimit(.minutes(5)))
struct LeakTests {
    /// Counted in a process of its own (`whago-bench http-client-leaks`): the tests of this process
    /// open and close descriptors of their own meanwhile, which would blur the count.
    @Test("5,000 requests, some refused, leave no file descriptor or handle behind")
    func noDescriptorLeak() async throws {
        let check = try ChildProcess(WhagoBinary.bench, ["http-client-leaks"])
        #expect(try await check.waitForExit(timeout: .seconds(240)) == 0, "\(check.standardError)")
        let line = try #require(check.standardOutput.split(separator: "\n").last { $0.hasPrefix("descriptors ") })
        let counts = Dictionary(uniqueKeysWithValues: line.dropFirst("descriptors ".count).split(separator: " ").compactMap { pair in
            let parts = pair.split(separator: "=")
            return parts.count == 2 ? (String(parts[0]), Int(parts[1])) : nil
        })
        let before = try #require(counts["before"] ?? nil)
        let after = try #require(counts["after"] ?? nil)
        // The client is shut down, so its connections are closed; a leak of one per request would add thousands.
        #expect(after <= before, "descriptors before: \(before), after: \(after)")
    }
}
