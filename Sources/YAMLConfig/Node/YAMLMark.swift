/// A position in a YAML source: its name, and a 1-based line and column (columns count Unicode
/// scalars, as libyaml does).
public struct YAMLMark: Sendable, Hashable, CustomStringConvertible {
    /// The file's path as the user gave it, or a label such as `--set server.listen`.
    public var source: String
    public var line: Int
    public var column: Int

    public init(source: String, line: Int, column: Int) {
        self.source = source
        self.line = line
        self.column = column
    }

    /// `source:line:column`, the format compilers use, so editors can jump to it.
    public var description: String { "\(source):\(line):\(column)" }
}

/// A YAML error, located where the offending text starts.
public struct YAMLError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Where; `nil` only for errors about the source as a whole (it could not be read).
    public var mark: YAMLMark?
    /// What is wrong and what was expected.
    public var message: String

    /// Messages quote the offending text; a huge value is cut so that the error stays readable.
    public init(_ message: String, at mark: YAMLMark?) {
        self.mark = mark
        self.message = message.count > 600 ? message.prefix(300) + " … " + message.suffix(200) : message
    }

    /// `file:line:column: message`.
    public var description: String { mark.map { "\($0): \(message)" } ?? message }
}

/// Every error found while decoding one document, in source order.
public struct YAMLErrors: Error, Sendable, CustomStringConvertible {
    public var errors: [YAMLError]

    public init(_ errors: [YAMLError]) { self.errors = errors }

    /// One `file:line:column: message` per line.
    public var description: String { errors.map(\.description).joined(separator: "\n") }
}
