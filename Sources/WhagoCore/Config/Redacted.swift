import Foundation

/// Renders a configuration for logs with every secret replaced by `<redacted>`.
///
/// Works on any value through reflection: ``Secret`` values (whose mirror is empty) and URL
/// passwords never come out; nested structures are shown as `key={…}`.
enum Redacted {
    /// `key=value key2={a=b}` for the stored properties of `value`; `nil` optionals are left out.
    static func fields(of value: Any) -> String {
        Mirror(reflecting: value).children.compactMap { child -> String? in
            guard let label = child.label, let rendered = render(child.value) else { return nil }
            return "\(label)=\(rendered)"
        }.joined(separator: " ")
    }

    private static func render(_ value: Any) -> String? {
        switch value {
        case is Secret: return "<redacted>"
        case let url as URL: return redact(url)
        case let text as String: return text.contains(" ") || text.isEmpty ? "\"\(text)\"" : text
        case let scalar as any LosslessStringConvertible: return scalar.description
        case let enumeration as any RawRepresentable: return "\(enumeration.rawValue)"
        default: break
        }
        let mirror = Mirror(reflecting: value)
        switch mirror.displayStyle {
        case .optional:
            return mirror.children.first.flatMap { render($0.value) }
        case .collection, .set:
            return "[" + mirror.children.compactMap { render($0.value) }.joined(separator: ", ") + "]"
        case .dictionary:
            let pairs = mirror.children.compactMap { child -> String? in
                let pair = Mirror(reflecting: child.value).children.map(\.value)
                guard pair.count == 2, let key = render(pair[0]), let value = render(pair[1]) else { return nil }
                return "\(key): \(value)"
            }
            return "{" + pairs.sorted().joined(separator: ", ") + "}"
        case .struct, .class, .tuple:
            return "{" + fields(of: value) + "}"
        default:
            return String(describing: value)
        }
    }

    /// The URL with its password (if any) replaced.
    static func redact(_ url: URL) -> String {
        guard var components = URLComponents(url: url, resolvingAgainstBaseURL: false), components.password != nil else {
            return url.absoluteString
        }
        components.password = "redacted"
        return components.string ?? "<url>"
    }
}
