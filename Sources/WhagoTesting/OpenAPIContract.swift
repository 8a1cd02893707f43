import Foundation
public import WhagoCore

/// WAHA's official OpenAPI spec (`../shared/reference/waha-openapi.json`, or `$WHAGO_WAHA_OPENAPI`)
/// and a validator of JSON bodies against the schema of an operation's request or response: the
/// simulator's answers and the WAHA driver's requests are both held to it.
///
/// Stricter than JSON Schema on purpose: a member the schema does not declare is an error (so a
/// renamed field fails), except the few that real WAHA sends beyond its spec (`engine` in sessions).
public struct OpenAPIContract: Sendable {
    public let spec: JSONValue

    /// A contract of any OpenAPI document (whago's own, say).
    public init(spec: JSONValue) {
        self.spec = spec
    }

    public static let shared: OpenAPIContract? = {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let path = ProcessInfo.processInfo.environment["WHAGO_WAHA_OPENAPI"]
            ?? root.deletingLastPathComponent().appendingPathComponent("shared/reference/waha-openapi.json").path
        guard let data = FileManager.default.contents(atPath: path),
              case .object(var spec)? = try? JSONDecoder().decode(JSONValue.self, from: data) else { return nil }
        // A known gap of the spec (waha.md §8): it types webhook `events` items as objects; they are names.
        if case .object(var components)? = spec["components"], case .object(var schemas)? = components["schemas"],
           case .object(var webhook)? = schemas["WebhookConfig"], case .object(var properties)? = webhook["properties"] {
            properties["events"] = .object(["type": "array", "items": .object(["type": "string"])])
            webhook["properties"] = .object(properties)
            schemas["WebhookConfig"] = .object(webhook)
            components["schemas"] = .object(schemas)
            spec["components"] = .object(components)
        }
        return OpenAPIContract(spec: .object(spec))
    }()

    /// Members real WAHA adds beyond the spec, per schema.
    public static let knownExtras: [String: Set<String>] = ["SessionInfo": ["engine"]]

    /// The schema of `method path`'s `status` answer for `contentType`, or nil when the spec has none.
    public func responseSchema(_ method: String, _ path: String, status: Int, contentType: String = "application/json") -> JSONValue? {
        let responses = spec["paths"]?[path]?[method.lowercased()]?["responses"]
        var response = responses?["\(status)"] ?? responses?["default"]
        if let reference = response?["$ref"]?.stringValue, reference.hasPrefix("#/components/responses/") {
            response = spec["components"]?["responses"]?[String(reference.dropFirst("#/components/responses/".count))]
        }
        return response?["content"]?[contentType]?["schema"]
    }

    /// Every way `value` breaks the response schema of the operation (empty: it conforms). An
    /// operation or status the spec does not describe is itself reported.
    public func violations(of value: JSONValue, _ method: String, _ path: String, status: Int) -> [String] {
        guard let schema = responseSchema(method, path, status: status) else {
            return ["the spec has no application/json schema for \(method) \(path) \(status)"]
        }
        var errors: [String] = []
        validate(value, schema, at: "$", name: nil, errors: &errors)
        return errors
    }

    /// The schema of `method path`'s JSON request body, or nil when the spec has none.
    public func requestSchema(_ method: String, _ path: String) -> JSONValue? {
        spec["paths"]?[path]?[method.lowercased()]?["requestBody"]?["content"]?["application/json"]?["schema"]
    }

    /// Every way a request body breaks the operation's request schema (empty: it conforms).
    public func requestViolations(of value: JSONValue, _ method: String, _ path: String) -> [String] {
        guard let schema = requestSchema(method, path) else {
            return ["the spec has no application/json request schema for \(method) \(path)"]
        }
        var errors: [String] = []
        validate(value, schema, at: "$", name: nil, errors: &errors)
        return errors
    }

    private func resolve(_ schema: JSONValue) -> (JSONValue, String?) {
        guard let reference = schema["$ref"]?.stringValue, reference.hasPrefix("#/components/schemas/") else { return (schema, nil) }
        let name = String(reference.dropFirst("#/components/schemas/".count))
        return (spec["components"]?["schemas"]?[name] ?? .object([:]), name)
    }

    private func validate(_ value: JSONValue, _ schema: JSONValue, at path: String, name: String?, errors: inout [String]) {
        let (schema, resolvedName) = resolve(schema)
        let name = resolvedName ?? name
        if value == .null, schema["nullable"] == .bool(true) { return }
        if case .array(let parts)? = schema["allOf"] {
            for part in parts { validate(value, part, at: path, name: name, errors: &errors) }
        }
        for key in ["oneOf", "anyOf"] {
            guard case .array(let options)? = schema[key] else { continue }
            let matches = options.filter { option in
                var attempt: [String] = []
                validate(value, option, at: path, name: nil, errors: &attempt)
                return attempt.isEmpty
            }
            if matches.isEmpty { errors.append("\(path): matches none of the \(key) schemas") }
        }
        if case .array(let choices)? = schema["enum"], !choices.contains(value) {
            errors.append("\(path): \(value) is not one of \(choices)")
        }
        let types: [String] = switch schema["type"] {
        case .string(let type)?: [type]
        case .array(let list)?: list.compactMap(\.stringValue)
        default: []
        }
        if !types.isEmpty, !types.contains(where: { Self.matches(value, type: $0) }) {
            errors.append("\(path): expected \(types.joined(separator: " or ")), found \(Self.kind(of: value))")
            return
        }
        switch value {
        case .object(let members):
            if case .array(let required)? = schema["required"] {
                for key in required.compactMap(\.stringValue) where members[key] == nil {
                    errors.append("\(path): missing required member '\(key)'")
                }
            }
            guard case .object(let properties)? = schema["properties"] else { return }
            let extrasAllowed = schema["additionalProperties"].map { $0 != .bool(false) } ?? false
            for (key, member) in members {
                if let property = properties[key] {
                    validate(member, property, at: "\(path).\(key)", name: nil, errors: &errors)
                } else if !extrasAllowed, !(Self.knownExtras[name ?? ""]?.contains(key) ?? false) {
                    errors.append("\(path): '\(key)' is not a member of \(name ?? "the schema")")
                }
            }
        case .array(let items):
            guard let itemSchema = schema["items"] else { return }
            for (index, item) in items.enumerated() { validate(item, itemSchema, at: "\(path)[\(index)]", name: nil, errors: &errors) }
        default:
            return
        }
    }

    private static func matches(_ value: JSONValue, type: String) -> Bool {
        switch (type, value) {
        case ("string", .string), ("boolean", .bool), ("object", .object), ("array", .array), ("null", .null), ("number", .number): true
        case ("integer", .number(let number)): number == number.rounded()
        default: false
        }
    }

    private static func kind(of value: JSONValue) -> String {
        switch value {
        case .null: "null"
        case .bool: "boolean"
        case .number: "number"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
    }
}
