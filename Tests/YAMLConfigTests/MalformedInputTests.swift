import Foundation
import Testing
import WhagoCore
import YAMLConfig

/// What the malformed inputs are decoded into: a small configuration with nested parts.
private struct Target: Decodable {
    var name: String
    var port: Int
    var items: [String]?
    var nested: [String: Int]?

    enum CodingKeys: String, CodingKey, CaseIterable { case name, port, items, nested }
}

/// One malformed input and why it is in the table.
struct Malformed: CustomTestStringConvertible, Sendable {
    let label: String
    let bytes: [UInt8]

    init(_ label: String, _ text: String) {
        self.label = label
        self.bytes = Array(text.utf8)
    }

    init(_ label: String, bytes: [UInt8]) {
        self.label = label
        self.bytes = bytes
    }

    var testDescription: String { label }

    /// How many lines the input has (a line break is LF, CR LF or a lone CR, as in YAML), counting
    /// the empty one after a final break.
    var lines: Int {
        var count = 1
        for (index, byte) in bytes.enumerated() where byte == 0x0A || (byte == 0x0D && bytes.dropFirst(index + 1).first != 0x0A) {
            count += 1
        }
        return count
    }
}

private func garbage(_ count: Int, seed: UInt64) -> [UInt8] {
    var state = seed
    return (0..<count).map { _ in
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return UInt8(truncatingIfNeeded: state >> 33)
    }
}

let malformedInputs: [Malformed] = [
    Malformed("truncated flow mapping", "name: a\nport: {"),
    Malformed("truncated flow sequence", "items: [a, b"),
    Malformed("truncated double-quoted string", "name: \"abc"),
    Malformed("truncated single-quoted string", "name: 'abc"),
    Malformed("truncated after key", "name"),
    Malformed("truncated anchor", "name: &"),
    Malformed("alias to nothing", "name: *nothing\nport: 1"),
    Malformed("tab indentation", "name: a\nnested:\n\tx: 1"),
    Malformed("tab before a sequence item", "items:\n\t- a"),
    Malformed("bad indentation", "name: a\n  port: 1\n port: 2"),
    Malformed("mapping value in plain scalar", "name: a: b"),
    Malformed("sequence where a mapping continues", "name: a\n- b"),
    Malformed("unclosed block sequence in flow", "items: [a, - b]"),
    Malformed("stray closing bracket", "items: a]"),
    Malformed("stray closing brace", "name: }"),
    Malformed("bad escape", "name: \"\\q\""),
    Malformed("invalid unicode escape", "name: \"\\uZZZZ\""),
    Malformed("duplicate key", "name: a\nname: b\nport: 1"),
    Malformed("duplicate nested key", "name: a\nport: 1\nnested: {x: 1, x: 2}"),
    Malformed("two documents", "name: a\nport: 1\n---\nname: b\nport: 2"),
    Malformed("directive garbage", "%FOO bar\n--- \nname: a"),
    Malformed("duplicate YAML directive", "%YAML 1.1\n%YAML 1.1\n---\nname: a"),
    Malformed("NUL byte", "name: a\u{0}\nport: 1"),
    Malformed("control characters", "name: \u{7}\u{8}"),
    Malformed("invalid UTF-8", bytes: Array("name: ".utf8) + [0xC3, 0x28, 0xFF, 0xFE]),
    Malformed("lone continuation bytes", bytes: [0x80, 0x81, 0x82, 0x0A]),
    Malformed("binary garbage 1", bytes: garbage(512, seed: 1)),
    Malformed("binary garbage 2", bytes: garbage(4096, seed: 2)),
    Malformed("binary garbage 3", bytes: garbage(64, seed: 3)),
    Malformed("binary garbage 4", bytes: garbage(100_000, seed: 4)),
    Malformed("deep flow nesting", String(repeating: "[", count: 100_000)),
    Malformed("deep closed flow nesting", "items: " + String(repeating: "[", count: 5_000) + String(repeating: "]", count: 5_000)),
    Malformed("deep block nesting", (0..<300).map { String(repeating: " ", count: $0) + "k\($0):" }.joined(separator: "\n") + " 1"),
    Malformed("deep mapping nesting in flow", String(repeating: "{a: ", count: 50_000)),
    Malformed("alias bomb", "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + (1...9).map { "\(Character(UnicodeScalar(97 + $0)!)): &\(Character(UnicodeScalar(97 + $0)!)) [" + Array(repeating: "*\(Character(UnicodeScalar(96 + $0)!))", count: 10).joined(separator: ", ") + "]" }.joined(separator: "\n")),
    Malformed("huge scalar of the wrong type", "name: a\nport: " + String(repeating: "9", count: 2_000_000)),
    Malformed("huge key", String(repeating: "k", count: 1_000_000) + ": 1"),
    Malformed("huge unknown key list", (0..<5_000).map { "k\($0): 1" }.joined(separator: "\n")),
    Malformed("a scalar document", "just a string"),
    Malformed("a sequence document", "- a\n- b"),
    Malformed("empty document", ""),
    Malformed("only comments", "# nothing\n# at all"),
    Malformed("wrong type for port", "name: a\nport: eighty"),
    Malformed("port out of Int range", "name: a\nport: 99999999999999999999999"),
    Malformed("complex mapping key", "? [a, b]\n: 1\nname: a\nport: 1"),
    Malformed("merge of a scalar", "<<: 3\nname: a\nport: 1"),
    Malformed("unterminated interpolation", "name: ${NAME\nport: 1"),
    Malformed("missing variable", "name: ${WHAGO_SURELY_UNSET_VARIABLE}\nport: 1"),
    Malformed("tag on a weird node", "name: !!binary a\nport: !!int x"),
    Malformed("CR-only line endings", "name: a\rport: 1\r\tbad: [\r"),
]

@Suite("Malformed inputs give errors, never a crash or a hang", .timeLimit(.minutes(3)))
struct MalformedInputTests {
    @Test("each malformed input produces located errors", arguments: malformedInputs)
    func malformed(_ input: Malformed) throws {
        do {
            let node = try YAMLParser(source: "bad.yaml", environment: [:]).parseSingleDocument(input.bytes)
                ?? YAMLNode(.mapping([]), mark: YAMLMark(source: "bad.yaml", line: 1, column: 1))
            let value = try YAMLDecoder().decode(Target.self, from: node)
            Issue.record("decoded \(value) from \(input.label)")
        } catch {
            #expect(!error.errors.isEmpty)
            for failure in error.errors {
                // Where: file:line:column, a line and column that exist in the input.
                let mark = try #require(failure.mark, "an error without a place: \(failure)")
                #expect(failure.description.hasPrefix("bad.yaml:\(mark.line):\(mark.column): "), "\(failure)")
                #expect(mark.line >= 1 && mark.line <= input.lines && mark.column >= 1, "\(mark.line):\(mark.column) is not in the input (\(input.lines) lines)")
                #expect(!failure.message.isEmpty)
                #expect(failure.description.count < 2_000, "an error message should stay short: \(failure.description.prefix(200))")
            }
        }
    }
}
