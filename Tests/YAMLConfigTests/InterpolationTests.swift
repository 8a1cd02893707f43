import Foundation
import Testing
import WhagoCore
import WhagoTesting
import YAMLConfig

@Suite("${VAR} interpolation and file: secrets", .timeLimit(.minutes(3)))
struct InterpolationTests {
    let environment = ["HOST": "10.0.0.1", "EMPTY": "", "PASSWORD": "p@ss:/%${NOT}"]

    private func value(_ text: String) throws -> String? {
        try parse("v: \(text)", environment: environment)["v"]?.scalar
    }

    @Test("references, defaults and escapes")
    func references() throws {
        #expect(try value("${HOST}:8080") == "10.0.0.1:8080")
        #expect(try value("${MISSING:-fallback}") == "fallback")
        #expect(try value("${EMPTY:-fallback}") == "fallback")
        #expect(try value("x${EMPTY-fallback}y") == "xy")
        #expect(try value("${MISSING-}") == "")
        #expect(try value("cost $$5 and $ alone") == "cost $5 and $ alone")
        #expect(try value("\"${HOST}\"") == "10.0.0.1")
    }

    @Test("with placeholders, an unset variable stands in for what its type accepts and is listed; errors about it are listed, not thrown")
    func placeholders() throws {
        struct Section: Decodable {
            var name: String
            var port: Int
            var url: URL
            var interval: TimeSpan
            var strict: Int
        }
        let placeholders = Placeholders()
        let yaml = "name: ${NAME}\nport: ${PORT:?the port}\nurl: ${URL}\ninterval: ${EVERY}\nstrict: ${HOST}\n"
        let root = try #require(try YAMLParser(source: "p.yaml", environment: environment, placeholders: placeholders).parseSingleDocument(yaml))
        let entries = placeholders.entries.map(\.description)
        #expect(entries == ["p.yaml:1:7: ${NAME} is not set: a placeholder stands in for it",
                            "p.yaml:2:7: ${PORT} is not set: a placeholder stands in for it",
                            "p.yaml:3:6: ${URL} is not set: a placeholder stands in for it",
                            "p.yaml:4:11: ${EVERY} is not set: a placeholder stands in for it"], "\(entries)")
        // `strict` is set (HOST=10.0.0.1) and is no integer: still an error.
        #expect(throws: YAMLErrors.self) { try YAMLDecoder(placeholders: placeholders).decode(Section.self, from: root) }
        let second = Placeholders()
        let set = try #require(try YAMLParser(source: "p.yaml", environment: environment.merging(["HOST": "7"]) { $1 }, placeholders: second)
            .parseSingleDocument(yaml))
        let decoded = try YAMLDecoder(placeholders: second).decode(Section.self, from: set)
        #expect(decoded.strict == 7 && decoded.name == "placeholder" && decoded.port == 1 && decoded.interval == TimeSpan.seconds(1))
        #expect(decoded.url.host == "placeholder.invalid")
        // A placeholder that no stand-in fits: decoding cannot go on, so it is an error that says why.
        enum Color: String, Decodable { case red, green }
        struct Painted: Decodable { var color: Color }
        let colors = Placeholders()
        let painted = try #require(try YAMLParser(source: "c.yaml", environment: [:], placeholders: colors).parseSingleDocument("color: ${COLOR}\n"))
        do {
            _ = try YAMLDecoder(placeholders: colors).decode(Painted.self, from: painted)
            Issue.record("a placeholder no stand-in fits was accepted")
        } catch {
            #expect(error.errors.count == 1)
            #expect(error.errors.first?.description.hasPrefix("c.yaml:1:8: ") == true, "\(error)")
            #expect(error.errors.first?.message.hasSuffix("no stand-in fits its type: set the variable)") == true, "\(error)")
        }
        #expect(colors.entries.count == 1, "the variable, listed once: \(colors.entries)")

        // Without placeholders, the same text is an error.
        #expect(throws: YAMLErrors.self) { try YAMLParser(source: "p.yaml", environment: environment).parseSingleDocument(yaml) }
    }

    @Test("a substituted value is not scanned again")
    func noRescan() throws {
        #expect(try value("${PASSWORD}") == "p@ss:/%${NOT}")
    }

    @Test("keys are never interpolated")
    func keysUntouched() throws {
        #expect(try parse("${HOST}: 1", environment: environment).mapping?.first?.key.scalar == "${HOST}")
    }

    @Test("errors point at the reference")
    func errors() {
        #expect(throws: YAMLErrors.self) { try parse("v: ${MISSING}", environment: environment) }
        #expect(failures("a: 1\nv: abc ${MISSING:?set it to the database URL}") == [
            "test.yaml:2:8: environment variable 'MISSING' is not set: set it to the database URL",
        ])
        #expect(failures("v: ${HOST") == ["test.yaml:1:4: unterminated '${' (expected ${NAME}, ${NAME:-default} or $$ for a literal $)"])
        #expect(failures("v: ${1X}") == ["test.yaml:1:4: invalid variable reference '${1X}' (expected ${NAME} with letters, digits and _)"])
        #expect(failures("a: ${A}\nb: ${B}\n").count == 2)
    }

    private func failures(_ yaml: String) -> [String] {
        do {
            _ = try parse(yaml, environment: environment)
            return []
        } catch {
            return error.errors.map(\.description)
        }
    }

    @Test("without an environment nothing is interpolated")
    func disabled() throws {
        #expect(try parse("v: ${MISSING}", environment: nil)["v"]?.scalar == "${MISSING}")
    }

    @Test("file: reads a secret and trims one trailing newline")
    func fileSecrets() throws {
        struct Box: Decodable { var token: Secret; var other: Secret? }
        let directory = try TemporaryDirectory("secrets")
        defer { directory.remove() }
        let path = try directory.write("token", "s3cr3t\n")
        try directory.write("crlf", "two\r\n\n")
        let box = try decode(Box.self, "token: file:\(path)\nother: file:${DIR}/crlf", environment: ["DIR": directory.path])
        #expect(box.token.revealed == "s3cr3t")
        #expect(box.other?.revealed == "two\r\n")
        #expect("\(box.token)" == "<redacted>")
        #expect(String(reflecting: box).contains("s3cr3t") == false)
    }
}
