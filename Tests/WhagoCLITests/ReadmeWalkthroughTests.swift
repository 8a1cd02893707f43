import Foundation
import Testing
import WhagoTesting

/// The README's walkthrough as a reader runs it: every `$` command of its block, in order, in a
/// shell, against a real `whago serve` on the embedded default (what `scripts/run` starts), from a
/// directory where `.build/debug/whago` is the built binary. Each answer the README shows must be
/// what the command printed, `…` standing for anything, so the walkthrough cannot drift from whago.
@Suite("The README's walkthrough", .timeLimit(.minutes(5)))
struct ReadmeWalkthroughTests {
    /// One command of the walkthrough and the answer the README shows for it.
    struct Step {
        var command: String
        var expected: [String] = []
    }

    static let readme = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("README.md")

    /// The steps of the block after the `<!-- walkthrough` marker.
    static func steps() throws -> [Step] {
        let text = try String(contentsOf: readme, encoding: .utf8)
        let lines = text.components(separatedBy: "\n")
        guard let marker = lines.firstIndex(where: { $0.hasPrefix("<!-- walkthrough") }),
              let open = lines[marker...].firstIndex(where: { $0.hasPrefix("```") }),
              let close = lines[(open + 1)...].firstIndex(where: { $0.hasPrefix("```") }) else {
            throw WalkthroughError("README.md has no walkthrough block after a '<!-- walkthrough' marker")
        }
        var steps: [Step] = []
        var index = open + 1
        while index < close {
            let line = lines[index]
            index += 1
            if line.hasPrefix("$ ") {
                var command = [String(line.dropFirst(2))]
                // A heredoc runs to its terminator; a line ending in \ goes on on the next.
                if let range = line.range(of: #"<<'?([A-Z]+)'?"#, options: .regularExpression) {
                    let terminator = line[range].replacingOccurrences(of: "<<", with: "").replacingOccurrences(of: "'", with: "")
                    while index < close {
                        command.append(lines[index])
                        index += 1
                        if command.last == terminator { break }
                    }
                }
                while command.last?.hasSuffix("\\") == true, index < close {
                    command.append(lines[index])
                    index += 1
                }
                steps.append(Step(command: command.joined(separator: "\n")))
            } else if !line.isEmpty, !line.hasPrefix("#"), !steps.isEmpty {
                steps[steps.count - 1].expected.append(line)
            }
        }
        return steps
    }

    /// Whether `output` is what `expected` shows, `…` standing for anything (within or across lines).
    static func matches(_ output: String, _ expected: [String]) -> Bool {
        let pattern = expected.joined(separator: "\n").components(separatedBy: "…")
            .map(NSRegularExpression.escapedPattern(for:)).joined(separator: "[\\s\\S]*?")
        return output.trimmingCharacters(in: .newlines).range(of: "^" + pattern + "$", options: .regularExpression) != nil
    }

    @Test("every command of the README's walkthrough runs as written, and answers what the README shows")
    func walkthrough() async throws {
        let steps = try Self.steps()
        #expect(steps.count >= 15, "the walkthrough was found whole: \(steps.count) commands")
        let directory = try TemporaryDirectory("readme")
        defer {
            Self.killProcesses(in: directory.path)
            directory.remove()
        }
        // As a reader's checkout has it after scripts/run: the binary at .build/debug/whago.
        try FileManager.default.createDirectory(atPath: directory.file(".build/debug"), withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: directory.file(".build/debug/whago"), withDestinationPath: WhagoBinary.path)
        for port in [8080, 9000] where acceptsConnections(port: port) {
            Issue.record("the walkthrough uses 127.0.0.1:\(port), and something listens there: stop it to run this test")
            return
        }
        // What scripts/run runs, once it has built whago.
        let serve = try ChildProcess(WhagoBinary.path, ["serve"], directory: directory.path)
        try await serve.waitForOutput(containing: "whago is running", timeout: .seconds(60))

        var script = "set -euo pipefail\n"
        for (index, step) in steps.enumerated() {
            script += "printf '\\n@@step \(index)@@\\n'\n\(step.command)\n"
        }
        let shell = try await ChildProcess.run("/bin/bash", ["-c", script], directory: directory.path, timeout: .seconds(180), drain: .seconds(2))
        #expect(shell.status == 0, "the walkthrough failed: \(shell.stderr)\n\(shell.stdout.suffix(2000))")
        let outputs = Self.outputs(shell.stdout)
        for (index, step) in steps.enumerated() where !step.expected.isEmpty {
            let output = outputs[index] ?? "(no output)"
            #expect(Self.matches(output, step.expected), "`\(step.command.prefix(120))` answered:\n\(output)\nThe README shows:\n\(step.expected.joined(separator: "\n"))")
        }
        serve.signal(SIGTERM)
        #expect(try await serve.waitForExit() == 0)
    }

    /// The output of each step, by its index.
    static func outputs(_ stdout: String) -> [Int: String] {
        var outputs: [Int: String] = [:]
        var current: Int?
        var lines: [String] = []
        for line in stdout.components(separatedBy: "\n") {
            if line.hasPrefix("@@step "), line.hasSuffix("@@"), let index = Int(line.dropFirst(7).dropLast(2)) {
                if let current { outputs[current] = lines.joined(separator: "\n") }
                current = index
                lines = []
            } else {
                lines.append(line)
            }
        }
        if let current { outputs[current] = lines.joined(separator: "\n") }
        return outputs
    }

    /// Kills what the walkthrough left running in `directory` (the receiver, the daemon's workers).
    static func killProcesses(in directory: String) {
        let directory = URL(fileURLWithPath: directory).resolvingSymlinksInPath().path
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let pid = Int32(entry), pid != getpid() else { continue }
            let cwd = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(entry)/cwd")) ?? ""
            let environment = FileManager.default.contents(atPath: "/proc/\(entry)/environ").map { String(decoding: $0, as: UTF8.self) } ?? ""
            if cwd == directory || cwd.hasPrefix(directory + "/") || environment.contains("WHAGO_WORKER_DIR=\(directory)/") {
                kill(pid, SIGKILL)
            }
        }
    }
}

struct WalkthroughError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
