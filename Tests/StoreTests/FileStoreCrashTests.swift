import FileStore
import Foundation
import Testing
import WhagoCore
import WhagoTesting

@Suite("The file store survives kill -9", .timeLimit(.minutes(10)))
struct FileStoreCrashTests {
    @Test("a writer SIGKILLed at 50 random points: every acknowledged write is there and the store opens cleanly")
    func sigkill() async throws {
        let directory = try TemporaryDirectory("file-store-crash")
        defer { directory.remove() }
        var acknowledged = Set<String>()
        for round in 0..<50 {
            let writer = try ChildProcess(WhagoBinary.bench, ["store-crash-writer", directory.path])
            try await writer.waitForOutput(containing: "ready")
            let target = Int.random(in: 1...80)
            try await writer.waitForOutput(timeout: .seconds(60), "\(target) acknowledgements") { stdout, _ in
                stdout.utf8.lazy.filter { $0 == UInt8(ascii: "\n") }.count > target
            }
            writer.signal(SIGKILL)
            _ = try await writer.waitForExit()
            for line in writer.standardOutput.split(separator: "\n") where line.hasPrefix("ack ") {
                acknowledged.insert(String(line.dropFirst(4)))
            }

            let store = try await FileStore(directory: directory.path)
            let chips = Set(try await store.allChips().map(\.id.rawValue))
            let lost = acknowledged.subtracting(chips)
            #expect(lost.isEmpty, "round \(round): \(lost.count) acknowledged chips lost, e.g. \(lost.prefix(3))")
            // Let go as the dead writer did: no orderly shutdown, so every round replays logs.
            await store.releaseLockForCrashTest()
        }
        #expect(acknowledged.count >= 50)
    }
}
