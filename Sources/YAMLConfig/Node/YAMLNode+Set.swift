extension YAMLNode {
    /// Sets the value at a dotted path to a scalar, creating mappings on the way: what
    /// `--set server.listen=127.0.0.1:18080` does, as Helm's `--set` does.
    ///
    /// A numeric segment indexes a sequence (`runtime.local.command.1=waha-sim`); one past the end
    /// appends, and a missing key followed by a numeric segment becomes a sequence. The new scalar's mark names `source` (e.g. `--set server.listen`), line 1, column 1.
    public mutating func set(_ path: String, to value: String, source: String) throws(YAMLError) {
        let segments = path.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        let mark = YAMLMark(source: source, line: 1, column: 1)
        guard !path.isEmpty, !segments.contains("") else {
            throw YAMLError("invalid path '\(path)' (expected KEY.KEY… such as server.listen)", at: mark)
        }
        try set(segments[...], to: YAMLNode(.scalar(value, .plain), mark: mark), walked: [])
    }

    private mutating func set(_ segments: ArraySlice<String>, to value: YAMLNode, walked: [String]) throws(YAMLError) {
        guard let segment = segments.first else {
            self = value
            return
        }
        let here = walked + [segment]
        switch content {
        case .sequence(var items):
            guard let index = Int(segment), index >= 0, index <= items.count else {
                throw YAMLError(
                    "'\(walked.joined(separator: "."))' is a sequence of \(items.count) items; '\(segment)' is not an index in 0...\(items.count)",
                    at: value.mark)
            }
            if index == items.count {
                items.append(Self.container(for: segments.dropFirst().first, at: value.mark))
            }
            try items[index].set(segments.dropFirst(), to: value, walked: here)
            content = .sequence(items)
        case .mapping(var pairs):
            if let position = pairs.firstIndex(where: { $0.key.scalar == segment }) {
                try pairs[position].value.set(segments.dropFirst(), to: value, walked: here)
            } else {
                var child = Self.container(for: segments.dropFirst().first, at: value.mark)
                try child.set(segments.dropFirst(), to: value, walked: here)
                pairs.append(Pair(key: YAMLNode(.scalar(segment, .plain), mark: value.mark), value: child))
            }
            content = .mapping(pairs)
        case .scalar:
            guard isNull else {
                throw YAMLError("cannot set '\(here.joined(separator: "."))': '\(walked.joined(separator: "."))' is a scalar, not a mapping", at: value.mark)
            }
            self = Self.container(for: segment, at: mark)
            try set(segments, to: value, walked: walked)
        }
    }

    /// An empty node to walk into with `segment`: a sequence for an index, else a mapping.
    private static func container(for segment: String?, at mark: YAMLMark) -> YAMLNode {
        segment.flatMap { Int($0) } == nil ? YAMLNode(.mapping([]), mark: mark) : YAMLNode(.sequence([]), mark: mark)
    }
}
