import Foundation
import YAMLConfig

/// `openapi.yaml`, the API's one source of truth: the generator builds the server's types and
/// routes from it at build time, and `GET /openapi.json` serves it, converted once at startup.
public enum OpenAPIDocument {
    /// The document as written.
    public static var yaml: [UInt8] { PackageResources.openapi_yaml }

    /// The document as JSON (what `GET /openapi.json` answers).
    public static let json: [UInt8] = {
        do {
            guard let root = try YAMLParser(source: "openapi.yaml", environment: [:]).parseSingleDocument(yaml) else {
                preconditionFailure("openapi.yaml is empty")
            }
            return Array(try JSONSerialization.data(withJSONObject: jsonObject(root), options: [.sortedKeys]))
        } catch {
            preconditionFailure("openapi.yaml does not convert to JSON: \(error)")
        }
    }()

    /// Every documented operation: method and path template, e.g. `("GET", "/api/v1/chips/{chipId}")`.
    public static let operations: [(method: String, path: String)] = {
        guard let document = try? JSONSerialization.jsonObject(with: Data(json)) as? [String: Any],
              let paths = document["paths"] as? [String: [String: Any]] else { return [] }
        let methods = ["get", "put", "post", "delete", "patch", "head", "options"]
        return paths.keys.sorted().flatMap { path in
            methods.filter { paths[path]?[$0] != nil }.map { (method: $0.uppercased(), path: path) }
        }
    }()

    /// Who may call each operation, by operationId: its `x-whago-access` as written (nil when
    /// it has none; ``undeclaredAccess`` lists those).
    public static let access: [String: String] = {
        var access: [String: String] = [:]
        for (_, operation) in rawOperations(json) {
            guard let id = operation["operationId"] as? String else { continue }
            access[id] = operation["x-whago-access"] as? String
        }
        return access
    }()

    /// The values `x-whago-access` may take.
    public static let accessValues: Set<String> = ["admin", "tenant", "admin-or-tenant", "open", "metrics", "worker"]

    /// Operations that do not say who may call them, or say it in a way whago does not know, as
    /// `METHOD path (operationId)`: whago refuses to start with any (an operation left out of a
    /// list would otherwise become callable by whoever the default lets in).
    public static var undeclaredAccess: [String] { undeclaredAccess(in: json) }

    /// ``undeclaredAccess`` of a document given as JSON.
    static func undeclaredAccess(in json: [UInt8]) -> [String] {
        rawOperations(json).compactMap { key, operation in
            let id = operation["operationId"] as? String
            if id != nil, let value = operation["x-whago-access"] as? String, accessValues.contains(value) { return nil }
            return "\(key) (\(id ?? "no operationId"))"
        }.sorted()
    }

    /// Every operation's object, by `METHOD path`.
    private static func rawOperations(_ json: [UInt8]) -> [(key: String, operation: [String: Any])] {
        guard let document = try? JSONSerialization.jsonObject(with: Data(json)) as? [String: Any],
              let paths = document["paths"] as? [String: [String: Any]] else { return [] }
        let methods = ["get", "put", "post", "delete", "patch", "head", "options"]
        return paths.keys.sorted().flatMap { path in
            methods.compactMap { method in (paths[path]?[method] as? [String: Any]).map { (key: "\(method.uppercased()) \(path)", operation: $0) } }
        }
    }

    /// YAML as JSON: plain scalars that read as booleans, null or numbers become those; every
    /// quoted scalar and every key stays a string.
    static func jsonObject(_ node: YAMLNode) -> Any {
        switch node.content {
        case .mapping(let pairs):
            var object: [String: Any] = [:]
            for pair in pairs { object[pair.key.scalar ?? ""] = jsonObject(pair.value) }
            return object
        case .sequence(let items):
            return items.map(jsonObject)
        case .scalar(let text, let style):
            guard style == .plain, node.tag == nil else { return text }
            if node.isNull { return NSNull() }
            if text == "true" { return true }
            if text == "false" { return false }
            if text.range(of: #"^-?(0|[1-9][0-9]*)$"#, options: .regularExpression) != nil, let value = Int(text) { return value }
            if text.range(of: #"^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?$"#, options: .regularExpression) != nil,
               let value = Double(text) { return value }
            return text
        }
    }
}
