/// One scalar, converted by the type asked for. Scalars are text until then.
struct SingleNodeContainer: SingleValueDecodingContainer {
    let decoder: NodeDecoder

    var codingPath: [any CodingKey] { decoder.codingPath }
    private var node: YAMLNode { decoder.node }

    func decodeNil() -> Bool { node.isNull }

    private func text(expected: String) throws -> String {
        try decoder.state.scalar(node, path: codingPath, expected: expected)
    }

    func decode(_ type: Bool.Type) throws -> Bool {
        switch try text(expected: "true or false") {
        case "true", "True", "TRUE": return true
        case "false", "False", "FALSE": return false
        case let other:
            let hint = ["yes", "no", "on", "off", "y", "n"].contains(other.lowercased()) ? " (write true or false; yes/no/on/off are not booleans here)" : ""
            throw decoder.error("expected true or false, found \(SecretKeys.quoted(other, at: codingPath))\(hint)")
        }
    }

    func decode(_ type: String.Type) throws -> String {
        // A quoted or block scalar is a string even when empty; a plain empty one is "no value".
        if case .scalar(let value, let style) = node.content, style != .plain || !node.isNull { return value }
        return try text(expected: "a string")
    }

    func decode(_ type: Double.Type) throws -> Double {
        let value = try text(expected: "a number")
        switch value {
        case ".inf", ".Inf", ".INF", "+.inf": return .infinity
        case "-.inf", "-.Inf", "-.INF": return -.infinity
        default: break
        }
        guard value.allSatisfy({ $0.isASCII && ($0.isNumber || "+-.eE_".contains($0)) }),
              let number = Double(value.replacingUnderscores()) else {
            throw decoder.error("expected a number, found \(SecretKeys.quoted(value, at: codingPath))")
        }
        return number
    }

    func decode(_ type: Float.Type) throws -> Float { Float(try decode(Double.self)) }

    private func integer<T: FixedWidthInteger>(_ type: T.Type) throws -> T {
        let value = try text(expected: "a whole number")
        let digits = value.replacingUnderscores()
        guard let number = T(digits, radix: 10) else {
            let unsigned = digits.hasPrefix("-") || digits.hasPrefix("+") ? digits.dropFirst() : Substring(digits)
            if !unsigned.isEmpty, unsigned.allSatisfy({ $0.isASCII && $0.isNumber }) {
                throw decoder.error("\(SecretKeys.covers(codingPath) ? "the value" : value) is out of range (\(T.min)...\(T.max))")
            }
            throw decoder.error("expected a whole number, found \(SecretKeys.quoted(value, at: codingPath))")
        }
        return number
    }

    func decode(_ type: Int.Type) throws -> Int { try integer(type) }
    func decode(_ type: Int8.Type) throws -> Int8 { try integer(type) }
    func decode(_ type: Int16.Type) throws -> Int16 { try integer(type) }
    func decode(_ type: Int32.Type) throws -> Int32 { try integer(type) }
    func decode(_ type: Int64.Type) throws -> Int64 { try integer(type) }
    func decode(_ type: UInt.Type) throws -> UInt { try integer(type) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try integer(type) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try integer(type) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try integer(type) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try integer(type) }

    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try decoder.state.decode(type, from: node, path: codingPath)
    }
}

extension String {
    /// `1_000_000` → `1000000`, as YAML allows digit groups.
    fileprivate func replacingUnderscores() -> String {
        guard contains("_"), !hasPrefix("_"), !hasSuffix("_") else { return self }
        return String(filter { $0 != "_" })
    }
}
