internal import CYAML

/// Parses YAML text into ``YAMLNode`` trees, one per document.
///
/// ```swift
/// let root = try YAMLParser(source: "whago.yaml", environment: ProcessInfo.processInfo.environment)
///     .parseSingleDocument(bytes)
/// ```
/// Every node carries its `line:column`. Duplicate keys are errors. `${VAR}` in scalar values is
/// replaced from `environment` when one is given (see ``Interpolator``); every unresolved reference
/// is reported, not only the first. Inputs that could exhaust memory or the stack — alias bombs,
/// deep nesting, huge files — fail with an error.
public struct YAMLParser: Sendable {
    /// Bounds on what one input may make the parser build.
    public struct Limits: Sendable {
        /// Largest input accepted, in bytes.
        public var maxBytes = 8 << 20
        /// Deepest nesting of sequences and mappings.
        public var maxDepth = 128
        /// Most nodes in a document, counting every node an alias repeats.
        public var maxNodes = 200_000

        public init() {}
    }

    /// The name errors use for the input: a path, or a label like `--set`.
    public var source: String
    /// Variables for `${VAR}` interpolation; `nil` leaves scalars untouched.
    public var environment: [String: String]?
    public var limits: Limits
    /// When set, unset variables become placeholders recorded here (see ``Placeholders``).
    public var placeholders: Placeholders?

    public init(source: String, environment: [String: String]? = nil, limits: Limits = Limits(), placeholders: Placeholders? = nil) {
        self.source = source
        self.environment = environment
        self.limits = limits
        self.placeholders = placeholders
    }

    /// Every document of the input (an empty input has none).
    public func parseDocuments(_ bytes: [UInt8]) throws(YAMLErrors) -> [YAMLNode] {
        guard bytes.count <= limits.maxBytes else {
            throw YAMLErrors([YAMLError("\(source): the input is \(bytes.count) bytes, more than the \(limits.maxBytes) accepted", at: nil)])
        }
        var loader: Loader
        let documents: [YAMLNode]
        do {
            loader = Loader(
                parser: try EventParser(bytes: bytes, source: source), limits: limits,
                interpolator: environment.map { Interpolator(environment: $0, placeholders: placeholders) }
            )
            documents = try loader.documents()
        } catch {
            throw YAMLErrors([error])
        }
        guard loader.interpolationErrors.isEmpty else { throw YAMLErrors(loader.interpolationErrors) }
        return documents
    }

    /// The one document of the input; `nil` when the input is empty or only comments. More than one
    /// document is an error.
    public func parseSingleDocument(_ bytes: [UInt8]) throws(YAMLErrors) -> YAMLNode? {
        let documents = try parseDocuments(bytes)
        if documents.count > 1 {
            throw YAMLErrors([YAMLError("expected one YAML document, found \(documents.count)", at: documents[1].mark)])
        }
        return documents.first
    }

    /// Parses a string.
    public func parseSingleDocument(_ text: String) throws(YAMLErrors) -> YAMLNode? {
        try parseSingleDocument(Array(text.utf8))
    }
}

/// Turns the event stream into nodes (recursive descent, bounded by ``YAMLParser/Limits``).
private struct Loader {
    let parser: EventParser
    let limits: YAMLParser.Limits
    let interpolator: Interpolator?
    var anchors: [String: (node: YAMLNode, size: Int)] = [:]
    var nodeCount = 0
    /// Unresolved `${VAR}` references, collected so that all of them are reported at once.
    var interpolationErrors: [YAMLError] = []

    init(parser: EventParser, limits: YAMLParser.Limits, interpolator: Interpolator?) {
        self.parser = parser
        self.limits = limits
        self.interpolator = interpolator
    }

    mutating func documents() throws(YAMLError) -> [YAMLNode] {
        var documents: [YAMLNode] = []
        var event = try parser.next()
        guard event.type == YAML_STREAM_START_EVENT else { throw unexpected(event) }
        while true {
            event = try parser.next()
            if event.type == YAML_STREAM_END_EVENT { return documents }
            guard event.type == YAML_DOCUMENT_START_EVENT else { throw unexpected(event) }
            anchors = [:]
            nodeCount = 0
            let root = try node(from: try parser.next(), depth: 0, isKey: false)
            let end = try parser.next()
            guard end.type == YAML_DOCUMENT_END_EVENT else { throw unexpected(end) }
            documents.append(root)
        }
    }

    private mutating func node(from event: Event, depth: Int) throws(YAMLError) -> YAMLNode {
        try node(from: event, depth: depth, isKey: false)
    }

    private mutating func node(from event: Event, depth: Int, isKey: Bool) throws(YAMLError) -> YAMLNode {
        let mark = parser.mark(of: event)
        guard depth <= limits.maxDepth else {
            throw YAMLError("nesting deeper than \(limits.maxDepth) levels", at: mark)
        }
        let before = nodeCount
        try count(1, at: mark)
        var result: YAMLNode
        switch event.type {
        case YAML_ALIAS_EVENT:
            let name = event.aliasAnchor
            guard let anchored = anchors[name] else {
                throw YAMLError("unknown alias '*\(name)' (no anchor '&\(name)' before it)", at: mark)
            }
            try count(anchored.size, at: mark)
            return anchored.node
        case YAML_SCALAR_EVENT:
            var value = event.scalarValue
            let style = event.scalarStyle
            if !isKey, let interpolator {
                do {
                    value = try interpolator.interpolate(value, at: mark, style: style)
                } catch {
                    interpolationErrors.append(error)
                }
            }
            result = YAMLNode(.scalar(value, style), mark: mark, tag: event.tag)
        case YAML_SEQUENCE_START_EVENT:
            var items: [YAMLNode] = []
            while true {
                let next = try parser.next()
                if next.type == YAML_SEQUENCE_END_EVENT { break }
                items.append(try node(from: next, depth: depth + 1))
            }
            result = YAMLNode(.sequence(items), mark: mark, tag: event.tag)
        case YAML_MAPPING_START_EVENT:
            result = YAMLNode(.mapping(try mappingPairs(depth: depth)), mark: mark, tag: event.tag)
        default:
            throw unexpected(event)
        }
        if let anchor = event.anchor {
            anchors[anchor] = (result, nodeCount - before)
        }
        return result
    }

    private mutating func mappingPairs(depth: Int) throws(YAMLError) -> [YAMLNode.Pair] {
        var pairs: [YAMLNode.Pair] = []
        var merged: [YAMLNode.Pair] = []
        var seen: [String: YAMLMark] = [:]
        while true {
            let next = try parser.next()
            if next.type == YAML_MAPPING_END_EVENT { break }
            let key = try node(from: next, depth: depth + 1, isKey: true)
            let value = try node(from: try parser.next(), depth: depth + 1)
            if case .scalar("<<", .plain) = key.content, key.tag == nil {
                merged += try mergeSources(value).flatMap { $0 }
                continue
            }
            if let name = key.scalar {
                if let first = seen[name] {
                    throw YAMLError("duplicate key '\(name)' (first defined at \(first.line):\(first.column))", at: key.mark)
                }
                seen[name] = key.mark
            }
            pairs.append(YAMLNode.Pair(key: key, value: value))
        }
        // Merge keys: explicit keys win, then earlier merged mappings.
        for pair in merged {
            guard let name = pair.key.scalar, seen[name] == nil else { continue }
            seen[name] = pair.key.mark
            pairs.append(pair)
        }
        return pairs
    }

    private func mergeSources(_ value: YAMLNode) throws(YAMLError) -> [[YAMLNode.Pair]] {
        if let pairs = value.mapping { return [pairs] }
        if let items = value.sequence {
            var sources: [[YAMLNode.Pair]] = []
            for item in items {
                guard let pairs = item.mapping else {
                    throw YAMLError("a merge key '<<' takes a mapping or a sequence of mappings, found \(item.kindDescription)", at: item.mark)
                }
                sources.append(pairs)
            }
            return sources
        }
        throw YAMLError("a merge key '<<' takes a mapping or a sequence of mappings, found \(value.kindDescription)", at: value.mark)
    }

    private mutating func count(_ nodes: Int, at mark: YAMLMark) throws(YAMLError) {
        nodeCount += nodes
        guard nodeCount <= limits.maxNodes else {
            throw YAMLError("the document has more than \(limits.maxNodes) nodes (counting those aliases repeat)", at: mark)
        }
    }

    private func unexpected(_ event: Event) -> YAMLError {
        YAMLError("unexpected YAML event \(event.type.rawValue)", at: parser.mark(of: event))
    }
}
