import Foundation

/// The query parameters each operation documents in openapi.yaml — their type, allowed values,
/// bounds and pattern — checked before the generated code decodes them, so that a bad value is
/// answered 400 `invalid_query` naming the parameter and what it accepts (the generated
/// decoder's error names neither). The document stays the one place the rules are written.
struct QueryRules: Sendable {
    /// One documented query parameter.
    struct Rule: Sendable, Hashable {
        var name: String
        var integer: Bool
        var allowed: [String]?
        var minimum: Int?
        var maximum: Int?
        var minLength: Int?
        var maxLength: Int?
        var pattern: String?
    }

    /// The rules by operation id.
    let rules: [String: [Rule]]

    /// The rules of openapi.yaml.
    static let document = QueryRules(json: OpenAPIDocument.json)

    init(json: [UInt8]) {
        guard let document = try? JSONSerialization.jsonObject(with: Data(json)) as? [String: Any],
              let paths = document["paths"] as? [String: [String: Any]] else {
            rules = [:]
            return
        }
        let shared = (document["components"] as? [String: Any])?["parameters"] as? [String: [String: Any]] ?? [:]
        func resolve(_ parameter: [String: Any]) -> [String: Any] {
            guard let reference = parameter["$ref"] as? String else { return parameter }
            return shared[String(reference.split(separator: "/").last ?? "")] ?? [:]
        }
        var rules: [String: [Rule]] = [:]
        for item in paths.values {
            let common = (item["parameters"] as? [[String: Any]]) ?? []
            for (method, value) in item where method != "parameters" {
                guard let operation = value as? [String: Any], let id = operation["operationId"] as? String else { continue }
                let parameters = (common + ((operation["parameters"] as? [[String: Any]]) ?? [])).map(resolve)
                rules[id] = parameters.compactMap { parameter -> Rule? in
                    guard parameter["in"] as? String == "query", let name = parameter["name"] as? String else { return nil }
                    let schema = parameter["schema"] as? [String: Any] ?? [:]
                    return Rule(name: name, integer: schema["type"] as? String == "integer", allowed: schema["enum"] as? [String],
                                minimum: schema["minimum"] as? Int, maximum: schema["maximum"] as? Int,
                                minLength: schema["minLength"] as? Int, maxLength: schema["maxLength"] as? Int,
                                pattern: schema["pattern"] as? String)
                }
            }
        }
        self.rules = rules
    }

    /// What is wrong with `query` (the part of the target after `?`) for the operation, or nil.
    func problem(operationID: String, query: Substring?) -> String? {
        guard let rules = rules[operationID], !rules.isEmpty, let query, !query.isEmpty else { return nil }
        for item in query.split(separator: "&") {
            let pair = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = Self.decode(pair[0])
            guard let rule = rules.first(where: { $0.name == name }) else { continue }
            if let problem = Self.check(pair.count == 2 ? Self.decode(pair[1]) : "", against: rule) { return problem }
        }
        return nil
    }

    private static func decode(_ text: Substring) -> String {
        String(text).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String(text)
    }

    /// The value as quoted in an error: the first 64 characters.
    private static func quoted(_ value: String) -> String {
        "'" + (value.count > 64 ? value.prefix(64) + "…" : value) + "'"
    }

    private static func check(_ value: String, against rule: Rule) -> String? {
        let start = "query parameter '\(rule.name)'"
        if let allowed = rule.allowed, !allowed.contains(value) {
            return "\(start) must be one of: \(allowed.joined(separator: ", ")) (got \(quoted(value)))"
        }
        if rule.integer {
            let bounds = switch (rule.minimum, rule.maximum) {
            case let (low?, high?): " from \(low) to \(high)"
            case let (low?, nil): " of at least \(low)"
            case let (nil, high?): " of at most \(high)"
            case (nil, nil): ""
            }
            guard let number = Int(value), number >= (rule.minimum ?? .min), number <= (rule.maximum ?? .max) else {
                return "\(start) must be an integer\(bounds) (got \(quoted(value)))"
            }
        }
        if value.count < (rule.minLength ?? 0) || value.count > (rule.maxLength ?? .max) {
            return "\(start) must be \(rule.minLength ?? 0) to \(rule.maxLength.map(String.init) ?? "any number of") characters long (got \(value.count))"
        }
        if let pattern = rule.pattern, value.range(of: pattern, options: .regularExpression) == nil {
            return "\(start) must match \(pattern) (got \(quoted(value)))"
        }
        return nil
    }
}
