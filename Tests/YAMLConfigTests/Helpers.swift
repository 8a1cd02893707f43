import Testing
import YAMLConfig

/// Parses `yaml` as `test.yaml` (with `${VAR}` from `environment`) and decodes it.
func decode<T: Decodable>(_ type: T.Type, _ yaml: String, environment: [String: String] = [:]) throws(YAMLErrors) -> T {
    let node = try parse(yaml, environment: environment)
    return try YAMLDecoder().decode(type, from: node)
}

/// Parses `yaml` as `test.yaml`; an empty document is an empty mapping.
func parse(_ yaml: String, environment: [String: String]? = [:]) throws(YAMLErrors) -> YAMLNode {
    try YAMLParser(source: "test.yaml", environment: environment).parseSingleDocument(yaml)
        ?? YAMLNode(.mapping([]), mark: YAMLMark(source: "test.yaml", line: 1, column: 1))
}

/// The `file:line:column: message` lines of decoding `yaml` into `type`; fails the test when it decodes.
func errors<T: Decodable>(decoding type: T.Type, _ yaml: String, environment: [String: String] = [:],
                          sourceLocation: SourceLocation = #_sourceLocation) -> [String] {
    do {
        let value = try decode(type, yaml, environment: environment)
        Issue.record("expected an error, decoded \(value)", sourceLocation: sourceLocation)
        return []
    } catch {
        return error.errors.map(\.description)
    }
}
