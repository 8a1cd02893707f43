/// The `Decoder` over one node.
struct NodeDecoder: Decoder {
    let node: YAMLNode
    let codingPath: [any CodingKey]
    let state: DecodingState

    var userInfo: [CodingUserInfoKey: Any] { state.userInfo }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        KeyedDecodingContainer(try KeyedNodeContainer<Key>(decoder: self))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        if node.isNull { return UnkeyedNodeContainer(decoder: self, items: []) }
        guard let items = node.sequence else {
            throw YAMLError(prefixed(codingPath, "expected a sequence, found \(node.description(at: codingPath))"), at: node.mark)
        }
        return UnkeyedNodeContainer(decoder: self, items: items)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer {
        SingleNodeContainer(decoder: self)
    }

    func error(_ message: String) -> YAMLError {
        YAMLError(prefixed(codingPath, message), at: node.mark)
    }
}

/// A mapping seen through a `CodingKey` type; records which keys were asked for.
struct KeyedNodeContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let decoder: NodeDecoder
    let values: [String: YAMLNode]
    let tracker: KeyTracker

    init(decoder: NodeDecoder) throws {
        self.decoder = decoder
        let pairs: [YAMLNode.Pair]
        if decoder.node.isNull {
            pairs = []
        } else if let mapping = decoder.node.mapping {
            pairs = mapping
        } else {
            throw decoder.error("expected a mapping, found \(decoder.node.description(at: decoder.codingPath))")
        }
        var values: [String: YAMLNode] = [:]
        var keys: [(String, YAMLMark)] = []
        for pair in pairs {
            guard let name = pair.key.scalar else {
                throw YAMLError(prefixed(decoder.codingPath, "mapping keys must be scalars, found \(pair.key.kindDescription)"), at: pair.key.mark)
            }
            values[name] = pair.value
            keys.append((name, pair.key.mark))
        }
        self.values = values
        self.tracker = KeyTracker(path: decoder.codingPath, keys: keys)
        if let iterable = Key.self as? any CaseIterable.Type {
            func names<C: CaseIterable>(_ type: C.Type) -> [String] { C.allCases.compactMap { ($0 as? any CodingKey)?.stringValue } }
            tracker.known = names(iterable)
        }
        decoder.state.trackers.append(tracker)
    }

    var codingPath: [any CodingKey] { decoder.codingPath }

    var allKeys: [Key] { tracker.keys.compactMap { Key(stringValue: $0.0) } }

    func contains(_ key: Key) -> Bool {
        tracker.access(key.stringValue)
        return values[key.stringValue] != nil
    }

    private func value(for key: Key) throws -> YAMLNode {
        tracker.access(key.stringValue)
        guard let value = values[key.stringValue] else {
            throw YAMLError("missing key '\(key.stringValue)' \(describePlace(codingPath))", at: decoder.node.mark)
        }
        return value
    }

    func decodeNil(forKey key: Key) throws -> Bool {
        try value(for: key).isNull
    }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        try decoder.state.decode(type, from: try value(for: key), path: codingPath + [key])
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
        try NodeDecoder(node: try value(for: key), codingPath: codingPath + [key], state: decoder.state).container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        try NodeDecoder(node: try value(for: key), codingPath: codingPath + [key], state: decoder.state).unkeyedContainer()
    }

    func superDecoder() throws -> any Decoder {
        decoder
    }

    /// A decoder for the key's value; for an absent key, one over an empty mapping located at this
    /// mapping, so a section that may be left out decodes as "every default".
    func superDecoder(forKey key: Key) throws -> any Decoder {
        tracker.access(key.stringValue)
        let node = values[key.stringValue] ?? YAMLNode(.mapping([]), mark: decoder.node.mark)
        return NodeDecoder(node: node, codingPath: codingPath + [key], state: decoder.state)
    }
}

/// A sequence, item after item.
struct UnkeyedNodeContainer: UnkeyedDecodingContainer {
    let decoder: NodeDecoder
    let items: [YAMLNode]
    private(set) var currentIndex = 0

    init(decoder: NodeDecoder, items: [YAMLNode]) {
        self.decoder = decoder
        self.items = items
    }

    var codingPath: [any CodingKey] { decoder.codingPath }
    var count: Int? { items.count }
    var isAtEnd: Bool { currentIndex >= items.count }

    private var currentPath: [any CodingKey] { codingPath + [AnyCodingKey(intValue: currentIndex)] }

    private func current() throws -> YAMLNode {
        guard !isAtEnd else {
            throw YAMLError(prefixed(codingPath, "expected more items in the sequence"), at: decoder.node.mark)
        }
        return items[currentIndex]
    }

    mutating func decodeNil() throws -> Bool {
        guard try current().isNull else { return false }
        currentIndex += 1
        return true
    }

    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
        let value = try decoder.state.decode(type, from: try current(), path: currentPath)
        currentIndex += 1
        return value
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        let container = try NodeDecoder(node: try current(), codingPath: currentPath, state: decoder.state).container(keyedBy: type)
        currentIndex += 1
        return container
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        let container = try NodeDecoder(node: try current(), codingPath: currentPath, state: decoder.state).unkeyedContainer()
        currentIndex += 1
        return container
    }

    mutating func superDecoder() throws -> any Decoder {
        let superDecoder = NodeDecoder(node: try current(), codingPath: currentPath, state: decoder.state)
        currentIndex += 1
        return superDecoder
    }
}
