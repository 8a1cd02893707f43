/// A YAML node: a scalar, a sequence or a mapping, with the place it was written.
///
/// Scalars stay strings: `yes`, `0755` and `1e3` are whatever the type they are decoded into
/// makes of them, never YAML 1.1 guesses. Aliases are resolved to the anchored node; merge keys
/// (`<<: *base`) are applied.
public struct YAMLNode: Sendable, Hashable {
    /// How a scalar was written.
    public enum ScalarStyle: Sendable, Hashable {
        case plain, singleQuoted, doubleQuoted, literal, folded
    }

    /// A key and its value in a mapping, in source order.
    public struct Pair: Sendable, Hashable {
        public var key: YAMLNode
        public var value: YAMLNode

        public init(key: YAMLNode, value: YAMLNode) {
            self.key = key
            self.value = value
        }
    }

    /// What the node holds: a scalar with its style, a sequence, or a mapping.
    public enum Content: Sendable, Hashable {
        case scalar(String, ScalarStyle)
        case sequence([YAMLNode])
        case mapping([Pair])
    }

    public var content: Content
    /// Where the node starts.
    public var mark: YAMLMark
    /// An explicit tag such as `!!str`, if one was written.
    public var tag: String?

    public init(_ content: Content, mark: YAMLMark, tag: String? = nil) {
        self.content = content
        self.mark = mark
        self.tag = tag
    }

    /// A plain scalar.
    public static func scalar(_ value: String, at mark: YAMLMark) -> YAMLNode {
        YAMLNode(.scalar(value, .plain), mark: mark)
    }

    /// The text of a scalar node.
    public var scalar: String? {
        if case .scalar(let value, _) = content { value } else { nil }
    }

    /// Whether the node is YAML's null: an empty plain scalar, `~` or `null` (unquoted, untagged).
    public var isNull: Bool {
        guard case .scalar(let value, .plain) = content, tag == nil else { return false }
        return ["", "~", "null", "Null", "NULL"].contains(value)
    }

    /// The pairs of a mapping node.
    public var mapping: [Pair]? {
        if case .mapping(let pairs) = content { pairs } else { nil }
    }

    /// Where the value at `path` (mapping keys, outermost first) is written, or — when it is not
    /// written — where its nearest written parent is: the place to report a problem with it.
    public func mark(at path: [String]) -> YAMLMark {
        guard let key = path.first, let pair = mapping?.last(where: { $0.key.scalar == key }) else { return mark }
        return path.count == 1 ? pair.value.mark : pair.value.mark(at: Array(path.dropFirst()))
    }

    /// The items of a sequence node.
    public var sequence: [YAMLNode]? {
        if case .sequence(let items) = content { items } else { nil }
    }

    /// The value of the first pair whose key is the scalar `key`.
    public subscript(key: String) -> YAMLNode? {
        mapping?.first(where: { $0.key.scalar == key })?.value
    }

    /// How the node is described in errors: `a mapping`, `a sequence`, `the scalar 'abc'`.
    var kindDescription: String { describe(hidingValue: false) }

    /// How the node is described in an error at `path`: a scalar's text is not repeated when the
    /// key holds a secret (see ``SecretKeys``).
    func description(at path: [any CodingKey]) -> String {
        describe(hidingValue: SecretKeys.covers(path))
    }

    private func describe(hidingValue: Bool) -> String {
        switch content {
        case .mapping: return "a mapping"
        case .sequence: return "a sequence"
        case .scalar(let value, _):
            if isNull { return "an empty value" }
            if hidingValue { return "a value that is not shown (the key holds a secret)" }
            let shown = value.count > 40 ? String(value.prefix(40)) + "…" : value
            return "'\(shown)'"
        }
    }
}

/// Keys whose values are, or may carry, credentials: passwords, tokens, keys, logins and URLs
/// (which can hold `user:password@`). Errors about them never repeat the value.
enum SecretKeys {
    private static let words = ["password", "secret", "token", "apikey", "login", "credential", "url", "key"]

    /// Whether the nearest named key of `path` (list indices skipped) is a secret's.
    static func covers(_ path: [any CodingKey]) -> Bool {
        guard let name = path.last(where: { $0.intValue == nil })?.stringValue.lowercased() else { return false }
        return words.contains { name.contains($0) }
    }

    /// `'value'`, or a placeholder when `path` is a secret's.
    static func quoted(_ value: String, at path: [any CodingKey]) -> String {
        covers(path) ? "a value that is not shown (the key holds a secret)" : "'\(value)'"
    }
}
