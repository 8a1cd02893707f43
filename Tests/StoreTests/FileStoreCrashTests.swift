@_spi(Testing) import FileStore
import Foundation
import Logging
import PostgresStore
import Testing
import WhagoCore
import WhagoTesting

/// Every batch the writer acknowledged is there whole (chip, proxy lease, event), and every chip
/// there has its whole batch: nothing half-written survives a kill.
func checkBatches(_ store: any Store, acknowledged: Set<String>, round: Int) async throws {
    let chips = Set(try await store.allChips().map(\.id.rawValue))
    let lost = acknowledged.subtracting(chips)
    #expect(lost.isEmpty, "round \(round): \(lost.count) acknowledged batches lost, e.g. \(lost.prefix(3))")
    let leased = Set(try await store.proxyLeases().map(\.chip.rawValue))
    let logged = Set(try await store.events(of: "crash", after: 0, limit: 1_000_000).map(\.chip.rawValue))
    #expect(leased == chips, "round \(round): chips and leases differ by \(chips.symmetricDifference(leased).prefix(3))")
    #expect(logged == chips, "round \(round): chips and events differ by \(chips.symmetricDifference(logged).prefix(3))")
}

/// What one round of a crash writer left: the batches it acknowledged, and those it saw fail (the
/// database server died under them, mid-transaction or before they began).
struct CrashRound {
    var acknowledged: Set<String>
    var failed: Set<String>
}

/// Runs the crash writer until it acknowledged a random number of batches, then kills it. With
/// `killServer`, the database server is killed first, under the running writer (its 16 writers
/// each have a batch in flight), and the writer only once it saw batches fail; without, the writer
/// is SIGKILLed mid-write and must die of that kill.
func writeUntilKilled(_ arguments: [String], round: Int, random: inout TestRandom,
                      killServer: (@Sendable () async throws -> Void)? = nil) async throws -> CrashRound {
    let writer = try ChildProcess(WhagoBinary.bench, ["store-crash-writer"] + arguments)
    try await writer.waitForOutput(containing: "ready", timeout: .seconds(60))
    let target = Int.random(in: 1...80, using: &random)
    try await writer.waitForOutput(timeout: .seconds(60), "\(target) acknowledgements") { stdout, _ in
        stdout.utf8.lazy.filter { $0 == UInt8(ascii: "\n") }.count > target
    }
    if let killServer {
        try await killServer()
        try await writer.waitForOutput(timeout: .seconds(60), "a failed batch") { stdout, _ in stdout.contains("fail ") }
        writer.signal(SIGKILL)
        _ = try await writer.waitForTermination()
    } else {
        writer.signal(SIGKILL)
        let termination = try await writer.waitForTermination()
        #expect(termination == .signaled(SIGKILL), "round \(round): the writer \(termination) before the test killed it: \(writer.standardError)")
    }
    let lines = writer.standardOutput.split(separator: "\n")
    func chips(_ prefix: String) -> Set<String> { Set(lines.filter { $0.hasPrefix(prefix) }.map { String($0.dropFirst(prefix.count)) }) }
    return CrashRound(acknowledged: chips("ack "), failed: chips("fail "))
}

@Suite("The stores survive kill -9", .timeLimit(.minutes(10)))
struct FileStoreCrashTests {
    @Test("a file-store writer SIGKILLed at 50 random points: every acknowledged batch is whole, no batch is half there")
    func sigkill() async throws {
        let directory = try TemporaryDirectory("file-store-crash")
        defer { directory.remove() }
        var acknowledged = Set<String>()
        var random = TestRandom("the file-store crash test's kill points")
        for round in 0..<50 {
            acknowledged.formUnion(try await writeUntilKilled([directory.path], round: round, random: &random).acknowledged)
            let store = try await FileStore(directory: directory.path)
            try await checkBatches(store, acknowledged: acknowledged, round: round)
            // Let go as the dead writer did: no orderly shutdown, so every round replays logs.
            await store.releaseLockForCrashTest()
        }
        #expect(acknowledged.count >= 50)
    }
}
