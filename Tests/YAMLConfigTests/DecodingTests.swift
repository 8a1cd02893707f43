import Foundation
import Testing
import WhagoCore
import YAMLConfig

/// A configuration-like type using every kind of value whago's configuration has.
private struct Sample: Decodable, Equatable {
    var count: Int
    var small: UInt8?
    var ratio: Double?
    var enabled: Bool?
    var timeout: TimeSpan?
    var memory: ByteSize?
    var ports: PortRange?
    var url: URL?
    var listen: HostPort?
    var names: [String]?
    var labels: [String: String]?
    var nested: Nested?

    struct Nested: Decodable, Equatable {
        var mode: Mode
        var depth: Int?

        enum CodingKeys: String, CodingKey, CaseIterable { case mode, depth }
    }

    enum Mode: String, Decodable, CaseIterable, Equatable { case bridge, host }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case count, small, ratio, enabled, timeout, memory, ports, url, listen, names, labels, nested
    }
}

@Suite("Decoding YAML into Decodable types", .timeLimit(.minutes(3)))
struct DecodingTests {
    @Test("every value kind decodes from its usual spelling")
    func values() throws {
        let sample = try decode(Sample.self, """
            count: 1_000
            small: 255
            ratio: 0.75
            enabled: true
            timeout: 1h30m
            memory: 512MiB
            ports: 3100-3199
            url: http://127.0.0.1:8080/hooks
            listen: "[::1]:9090"
            names: [a, "b", 'c']
            labels: {whago.tenant: t1, empty: ""}
            nested: {mode: host}
            """)
        #expect(sample.count == 1000)
        #expect(sample.small == 255)
        #expect(sample.ratio == 0.75)
        #expect(sample.enabled == true)
        #expect(sample.timeout == TimeSpan(.seconds(5400)))
        #expect(sample.memory == ByteSize(bytes: 512 << 20))
        #expect(sample.ports?.lowerBound == 3100 && sample.ports?.upperBound == 3199 && sample.ports?.count == 100)
        #expect(sample.url?.absoluteString == "http://127.0.0.1:8080/hooks")
        #expect(sample.listen == HostPort(host: "::1", port: 9090))
        #expect(sample.names == ["a", "b", "c"])
        #expect(sample.labels == ["whago.tenant": "t1", "empty": ""])
        #expect(sample.nested == Sample.Nested(mode: .host, depth: nil))
    }

    @Test("absent, null and empty values are nil for optionals")
    func optionals() throws {
        let sample = try decode(Sample.self, "count: 3\nsmall: ~\nratio: null\nenabled:\n")
        #expect(sample.small == nil && sample.ratio == nil && sample.enabled == nil && sample.names == nil)
    }

    @Test("durations", arguments: [
        ("250ms", Int64(250)), ("30s", 30_000), ("5m", 300_000), ("1h", 3_600_000), ("2d", 172_800_000), ("1m30s", 90_000),
    ])
    func durations(text: String, milliseconds: Int64) throws {
        struct Box: Decodable { var value: TimeSpan }
        #expect(try decode(Box.self, "value: \(text)").value.milliseconds == milliseconds)
    }

    @Test("byte sizes", arguments: [
        ("512MiB", Int64(512 << 20)), ("1GiB", Int64(1 << 30)), ("10MB", 10_000_000), ("64KiB", 65_536), ("1024", 1024), ("3 GiB", Int64(3) << 30),
    ])
    func byteSizes(text: String, bytes: Int64) throws {
        struct Box: Decodable { var value: ByteSize }
        #expect(try decode(Box.self, "value: \(text)").value.bytes == bytes)
    }

    @Test("YAML 1.1 booleans are refused, with a hint", arguments: ["yes", "no", "on", "off"])
    func noYesNo(word: String) {
        #expect(errors(decoding: Sample.self, "count: 1\nenabled: \(word)") == [
            "test.yaml:2:10: enabled: expected true or false, found '\(word)' (write true or false; yes/no/on/off are not booleans here)",
        ])
    }

    @Test("a String target keeps on, yes and 0755 as written")
    func stringsStayStrings() throws {
        #expect(try decode([String: String].self, "a: on\nb: yes\nc: 0755\nd: 1e3") == ["a": "on", "b": "yes", "c": "0755", "d": "1e3"])
    }
}

@Suite("Located decoding errors", .timeLimit(.minutes(3)))
struct DecodingErrorTests {
    @Test("unknown key, with the valid keys listed")
    func unknownKey() {
        #expect(errors(decoding: Sample.self, "count: 1\nnested:\n  mode: host\n  dept: 3\n") == [
            "test.yaml:4:3: unknown key 'dept' in nested (expected one of: mode, depth)",
        ])
        #expect(errors(decoding: Sample.self, "count: 1\ncuont: 2\n") == [
            "test.yaml:2:1: unknown key 'cuont' at the top level (expected one of: count, small, ratio, enabled, timeout, memory, ports, url, listen, names, labels, nested)",
        ])
    }

    @Test("every unknown key is reported in one run")
    func severalUnknownKeys() {
        #expect(errors(decoding: Sample.self, "a: 1\ncount: 1\nnested: {mode: host, b: 2}\nc: 3\n").count == 3)
    }

    @Test("duplicate key")
    func duplicateKey() {
        #expect(errors(decoding: Sample.self, "count: 1\nnested:\n  mode: host\n  mode: bridge\n") == [
            "test.yaml:4:3: duplicate key 'mode' (first defined at 3:3)",
        ])
    }

    @Test("syntax error")
    func syntaxError() {
        #expect(errors(decoding: Sample.self, "count: 1\nnested: {mode: host\n") == [
            "test.yaml:3:1: syntax error: did not find expected ',' or '}' (while parsing a flow mapping started at 2:9)",
        ])
    }

    @Test("wrong types")
    func wrongTypes() {
        #expect(errors(decoding: Sample.self, "count: ten") == ["test.yaml:1:8: count: expected a whole number, found 'ten'"])
        #expect(errors(decoding: Sample.self, "count: 1\nsmall: 300") == ["test.yaml:2:8: small: 300 is out of range (0...255)"])
        #expect(errors(decoding: Sample.self, "count: 1\nnames: abc") == ["test.yaml:2:8: names: expected a sequence, found 'abc'"])
        #expect(errors(decoding: Sample.self, "count: 1\nnested: [1]") == ["test.yaml:2:9: nested: expected a mapping, found a sequence"])
        #expect(errors(decoding: Sample.self, "count: [1]") == ["test.yaml:1:8: count: expected a whole number, found a sequence"])
        #expect(errors(decoding: Sample.self, "count: 1\nnested: {mode: brdige}") == [
            "test.yaml:2:16: nested.mode: invalid value 'brdige' (expected one of: bridge, host)",
        ])
        #expect(errors(decoding: Sample.self, "count: 1\nurl: not a url") == [
            "test.yaml:2:6: url: expected an absolute URL such as http://127.0.0.1:8080, found a value that is not shown (the key holds a secret)",
        ])
        #expect(errors(decoding: Sample.self, "count: 1\ntimeout: 30") == [
            "test.yaml:2:10: timeout: invalid duration '30': a unit is required; expected a duration such as 500ms, 30s, 5m or 1h30m",
        ])
    }

    @Test("missing key, located at the mapping that lacks it")
    func missingKey() {
        #expect(errors(decoding: Sample.self, "small: 1") == ["test.yaml:1:1: missing key 'count' at the top level"])
        #expect(errors(decoding: Sample.self, "count: 1\nnested:\n  depth: 2") == ["test.yaml:3:3: missing key 'mode' in nested"])
    }

    @Test("bad port ranges", arguments: [
        ("3199-3100", "port range 3199-3100 is empty: the first port is above the last"),
        ("0-10", "port range 0-10 is outside 1-65535"),
        ("3100-70000", "port range 3100-70000 is outside 1-65535"),
        ("3100-700000", "invalid port range '3100-700000'; expected FIRST-LAST such as 3100-3199"),
        ("a-b", "invalid port range 'a-b'; expected FIRST-LAST such as 3100-3199"),
        ("1-2-3", "invalid port range '1-2-3'; expected FIRST-LAST such as 3100-3199"),
    ])
    func badRange(text: String, message: String) {
        #expect(errors(decoding: Sample.self, "count: 1\nports: \(text)") == ["test.yaml:2:8: ports: \(message)"])
    }

    @Test("missing environment variable without a default")
    func missingVariable() {
        #expect(errors(decoding: Sample.self, "count: 1\nnames:\n  - x${NOPE}y") == [
            "test.yaml:3:6: environment variable 'NOPE' is not set (set it, or write ${NOPE:-default} to give a default)",
        ])
    }

    @Test("unreadable secret file")
    func unreadableSecret() {
        struct Box: Decodable { var token: Secret }
        #expect(errors(decoding: Box.self, "token: file:/nonexistent/whago-secret") == [
            "test.yaml:1:8: token: cannot read secret file '/nonexistent/whago-secret': No such file or directory",
        ])
    }
}

/// Keys that hold secrets, for the redaction test.
private struct Credentials: Decodable {
    var password: Int?
    var apiKeys: [Bool]?
    var databaseURL: URL?
    var mode: Mode?
    enum Mode: String, Decodable, CaseIterable { case a, b }
}

@Suite("Errors about secrets never repeat them", .timeLimit(.minutes(3)))
struct SecretErrorTests {
    @Test("a wrong type under a password, key, token or URL key names the place and the type, never the value")
    func redacted() {
        let cases = [
            "password: hunter2-s3cret",
            "apiKeys: [hunter2-s3cret]",
            "databaseURL: hunter2-s3cret",
            "password: ${DB_PASSWORD}",
        ]
        for yaml in cases {
            let messages = errors(decoding: Credentials.self, yaml, environment: ["DB_PASSWORD": "hunter2-s3cret"])
            #expect(messages.count == 1, "\(yaml)")
            #expect(messages.allSatisfy { !$0.contains("hunter2") }, "\(messages)")
            #expect(messages.allSatisfy { $0.contains("not shown") }, "\(messages)")
        }
        // Keys that hold no secret keep showing what was written.
        #expect(errors(decoding: Credentials.self, "mode: c") == [
            "test.yaml:1:7: mode: invalid value 'c' (expected one of: a, b)",
        ])
    }
}
