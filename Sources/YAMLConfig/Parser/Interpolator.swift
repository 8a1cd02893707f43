/// Replaces `${VAR}` in scalar values with environment variables, as Docker Compose does.
///
/// - `${VAR}`: the variable's value; an error when it is not set.
/// - `${VAR:-default}`: `default` when the variable is unset or empty; `${VAR-default}`: when unset.
/// - `${VAR:?message}`: an error saying `message` when the variable is unset or empty.
/// - `$$` is a literal `$`; a `$` not followed by `{` or `$` is left alone.
///
/// Substituted values are not scanned again, so a secret containing `${` stays as it is.
public struct Interpolator: Sendable {
    public var environment: [String: String]
    /// When set, a variable that is not set (and has no default) becomes a placeholder recorded
    /// here instead of an error.
    public var placeholders: Placeholders?

    public init(environment: [String: String], placeholders: Placeholders? = nil) {
        self.environment = environment
        self.placeholders = placeholders
    }

    /// The value with every reference replaced. Errors point at the `$` when the scalar is plain
    /// and on one line (where columns are exact), else at the scalar.
    public func interpolate(_ value: String, at mark: YAMLMark, style: YAMLNode.ScalarStyle = .plain) throws(YAMLError) -> String {
        guard value.contains("$") else { return value }
        let scalars = Array(value.unicodeScalars)
        var output = String.UnicodeScalarView()
        var index = 0
        func location(_ offset: Int) -> YAMLMark {
            guard style == .plain, !value.contains("\n") else { return mark }
            var located = mark
            located.column += offset
            return located
        }
        while index < scalars.count {
            let scalar = scalars[index]
            guard scalar == "$", index + 1 < scalars.count else {
                output.append(scalar)
                index += 1
                continue
            }
            if scalars[index + 1] == "$" {
                output.append("$")
                index += 2
                continue
            }
            guard scalars[index + 1] == "{" else {
                output.append(scalar)
                index += 1
                continue
            }
            guard let close = scalars[(index + 2)...].firstIndex(of: "}") else {
                throw YAMLError("unterminated '${' (expected ${NAME}, ${NAME:-default} or $$ for a literal $)", at: location(index))
            }
            let expression = String(String.UnicodeScalarView(scalars[(index + 2)..<close]))
            output.append(contentsOf: try resolve(expression, at: location(index), scalar: mark).unicodeScalars)
            index = close + 1
        }
        return String(output)
    }

    private func resolve(_ expression: String, at mark: YAMLMark, scalar: YAMLMark) throws(YAMLError) -> String {
        let nameEnd = expression.firstIndex(where: { !($0.isLetter || $0.isNumber || $0 == "_") }) ?? expression.endIndex
        let name = String(expression[..<nameEnd])
        let rest = expression[nameEnd...]
        guard !name.isEmpty, !(name.first?.isNumber ?? false) else {
            throw YAMLError("invalid variable reference '${\(expression)}' (expected ${NAME} with letters, digits and _)", at: mark)
        }
        let value = environment[name]
        if rest.isEmpty {
            let unset = "environment variable '\(name)' is not set (set it, or write ${\(name):-default} to give a default)"
            if value == nil, let placeholders {
                placeholders.recordVariable(name, at: mark, inScalarAt: scalar, error: unset)
                return Placeholders.text
            }
            guard let value else { throw YAMLError(unset, at: mark) }
            return value
        }
        for (operatorText, emptyCounts) in [(":-", true), ("-", false), (":?", true), ("?", false)] where rest.hasPrefix(operatorText) {
            let argument = String(rest.dropFirst(operatorText.count))
            let missing = value == nil || (emptyCounts && value == "")
            if operatorText.hasSuffix("-") { return missing ? argument : value! }
            let unset = "environment variable '\(name)' is not set: \(argument.isEmpty ? "is required" : argument)"
            if missing, let placeholders {
                placeholders.recordVariable(name, at: mark, inScalarAt: scalar, error: unset)
                return Placeholders.text
            }
            if missing { throw YAMLError(unset, at: mark) }
            return value!
        }
        throw YAMLError("invalid variable reference '${\(expression)}' (expected ${NAME}, ${NAME:-default} or ${NAME:?message})", at: mark)
    }
}
