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
