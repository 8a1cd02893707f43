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

    /// The items of a sequence node.
    public var sequence: [YAMLNode]? {
        if case .sequence(let items) = content { items } else { nil }
    }

    /// The value of the first pair whose key is the scalar `key`.
    public subscript(key: String) -> YAMLNode? {
        mapping?.first(where: { $0.key.scalar == key })?.value
    }

    /// How the node is described in errors: `a mapping`, `a sequence`, `the scalar 'abc'`.
    var kindDescription: String {
        switch content {
        case .mapping: return "a mapping"
        case .sequence: return "a sequence"
        case .scalar(let value, _):
            if isNull { return "an empty value" }
            let shown = value.count > 40 ? String(value.prefix(40)) + "…" : value
            return "'\(shown)'"
        }
    }
}
