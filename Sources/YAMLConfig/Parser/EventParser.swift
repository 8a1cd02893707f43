internal import CYAML

/// libyaml's event parser over an in-memory copy of the input; one event at a time.
///
/// Owns the C parser and the input buffer for its whole life; not shared between threads.
final class EventParser {
    private let parser: UnsafeMutablePointer<yaml_parser_t>
    private let input: UnsafeMutableBufferPointer<UInt8>
    private let source: String

    init(bytes: [UInt8], source: String) throws(YAMLError) {
        self.source = source
        parser = .allocate(capacity: 1)
        input = .allocate(capacity: max(bytes.count, 1))
        _ = input.initialize(from: bytes)
        guard yaml_parser_initialize(parser) == 1 else {
            input.deallocate()
            parser.deallocate()
            throw YAMLError("out of memory while starting the YAML parser", at: nil)
        }
        yaml_parser_set_input_string(parser, input.baseAddress, bytes.count)
    }

    deinit {
        yaml_parser_delete(parser)
        parser.deallocate()
        input.deallocate()
    }

    /// The next event; throws libyaml's error, located, when the input is not valid YAML.
    func next() throws(YAMLError) -> Event {
        let event = Event()
        guard yaml_parser_parse(parser, &event.raw) == 1 else { throw currentError() }
        return event
    }

    func mark(of event: Event) -> YAMLMark {
        YAMLMark(source: source, line: Int(event.raw.start_mark.line) + 1, column: Int(event.raw.start_mark.column) + 1)
    }

    private func currentError() -> YAMLError {
        let state = parser.pointee
        let problem = state.problem.map { String(cString: $0) } ?? "unknown error"
        switch state.error {
        case YAML_READER_ERROR:
            // Reader errors (bad encoding, control characters) carry a byte offset, not a mark.
            let mark = self.mark(atByteOffset: Int(state.problem_offset))
            let value = state.problem_value >= 0 ? hexByte(Int(state.problem_value)) : ""
            return YAMLError("invalid input: \(problem)\(value)", at: mark)
        case YAML_MEMORY_ERROR:
            return YAMLError("out of memory while parsing YAML", at: nil)
        default:
            let mark = self.mark(state.problem_mark)
            var message = "syntax error: \(problem)"
            if let context = state.context.map({ String(cString: $0) }) {
                let start = self.mark(state.context_mark)
                message += " (\(context) started at \(start.line):\(start.column))"
            }
            return YAMLError(message, at: mark)
        }
    }

    /// libyaml's mark, 1-based. At the end of the input libyaml puts it on a line after the last
    /// one (as if a final line break were there): it is placed where the input really ends instead.
    private func mark(_ mark: yaml_mark_t) -> YAMLMark {
        Int(mark.index) >= input.count
            ? self.mark(atByteOffset: input.count)
            : YAMLMark(source: source, line: Int(mark.line) + 1, column: Int(mark.column) + 1)
    }

    /// Line and column of a byte offset of the input, counting Unicode scalars where the bytes are
    /// UTF-8, and line breaks as YAML does (LF, CR LF, or a lone CR).
    private func mark(atByteOffset offset: Int) -> YAMLMark {
        var line = 1
        var column = 1
        var afterCR = false
        for byte in input.prefix(min(offset, input.count)) {
            if byte == UInt8(ascii: "\n") && afterCR {
                afterCR = false
            } else if byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r") {
                line += 1
                column = 1
                afterCR = byte == UInt8(ascii: "\r")
            } else {
                afterCR = false
                if byte & 0xC0 != 0x80 { column += 1 }
            }
        }
        return YAMLMark(source: source, line: line, column: column)
    }
}

/// One libyaml event, freed when released.
final class Event {
    var raw = yaml_event_t()

    deinit { yaml_event_delete(&raw) }

    var type: yaml_event_type_t { raw.type }

    var scalarValue: String {
        let pointer = UnsafeRawPointer(raw.data.scalar.value!).assumingMemoryBound(to: UInt8.self)
        return String(decoding: UnsafeBufferPointer(start: pointer, count: raw.data.scalar.length), as: UTF8.self)
    }

    var scalarStyle: YAMLNode.ScalarStyle {
        switch raw.data.scalar.style {
        case YAML_SINGLE_QUOTED_SCALAR_STYLE: .singleQuoted
        case YAML_DOUBLE_QUOTED_SCALAR_STYLE: .doubleQuoted
        case YAML_LITERAL_SCALAR_STYLE: .literal
        case YAML_FOLDED_SCALAR_STYLE: .folded
        default: .plain
        }
    }

    var anchor: String? {
        withUnsafePointer(to: &raw) { whago_yaml_event_anchor($0).map { String(cString: $0) } }
    }

    var aliasAnchor: String {
        withUnsafePointer(to: &raw) { String(cString: whago_yaml_alias_anchor($0)) }
    }

    var tag: String? {
        withUnsafePointer(to: &raw) { whago_yaml_event_tag($0).map { String(cString: $0) } }
    }
}

/// ` (0xNN)` for a reader error's offending value.
private func hexByte(_ value: Int) -> String {
    let hex = String(value, radix: 16, uppercase: true)
    return " (0x" + String(repeating: "0", count: max(0, 2 - hex.count)) + hex + ")"
}
