import Synchronization

/// What a configuration checked with placeholders left unchecked: environment variables that are
/// not set and secret files that do not exist, as in a deployer's CI, which has no secrets.
///
/// Give one to ``YAMLParser`` (an unset `${VAR}` becomes a placeholder instead of an error) and
/// to ``YAMLDecoder`` (a scalar holding a placeholder decodes as a stand-in value its type
/// accepts, and errors about that scalar alone are listed here instead of failing). Every other
/// check stays as strict as without it.
///
/// With ``unsetVariablesAreErrors`` it is the strict check's collector instead: an unset variable
/// is an error (in ``errors``), yet a stand-in takes its place so that decoding goes on and one
/// run reports every problem of the file — a missing secret file beside an unset variable.
public final class Placeholders: Sendable {
    /// One placeholder: what stands in for what, and where.
    public struct Entry: Sendable, Hashable, CustomStringConvertible {
        public var what: String
        public var mark: YAMLMark?

        public var description: String { mark.map { "\($0): \(what)" } ?? what }
    }

    private let state = Mutex<(entries: [Entry], scalars: Set<YAMLMark>, errors: [YAMLError])>(([], [], []))

    /// Whether an unset variable is an error (strict checking) rather than a placeholder to list.
    public let unsetVariablesAreErrors: Bool

    public init(unsetVariablesAreErrors: Bool = false) {
        self.unsetVariablesAreErrors = unsetVariablesAreErrors
    }

    /// The unset variables, as errors, when ``unsetVariablesAreErrors``.
    public var errors: [YAMLError] { state.withLock { $0.errors } }

    /// Every placeholder, in source order (then in the order found).
    public var entries: [Entry] {
        state.withLock { state in
            state.entries.enumerated().sorted {
                ($0.element.mark?.line ?? .max, $0.element.mark?.column ?? .max, $0.offset)
                    < ($1.element.mark?.line ?? .max, $1.element.mark?.column ?? .max, $1.offset)
            }.map(\.element)
        }
    }

    /// Records a placeholder that is not in a scalar the parser marked (e.g. a secret file).
    public func record(_ what: String, at mark: YAMLMark? = nil) {
        state.withLock { $0.entries.append(Entry(what: what, mark: mark)) }
    }

    /// Records an unset variable in the scalar that starts at `scalar`; `error` is what strict
    /// checking says of it.
    func recordVariable(_ name: String, at mark: YAMLMark, inScalarAt scalar: YAMLMark, error: String) {
        state.withLock { state in
            if unsetVariablesAreErrors {
                state.errors.append(YAMLError(error, at: mark))
            } else {
                state.entries.append(Entry(what: "${\(name)} is not set: a placeholder stands in for it", mark: mark))
            }
            state.scalars.insert(scalar)
        }
    }

    /// Whether the scalar that starts at `mark` holds a placeholder.
    func holdsPlaceholder(_ mark: YAMLMark) -> Bool {
        state.withLock { $0.scalars.contains(mark) }
    }

    /// The text an unset variable is replaced with before the scalar is decoded.
    static let text = "placeholder"

    /// Values tried, in order, for a scalar that holds a placeholder: the first one its type
    /// accepts stands in for it (text, number, flag, duration, address, port range, URLs).
    static let standIns = [
        text, "1", "true", "1s", "127.0.0.1:1", "1-1", "http://placeholder.invalid/",
        "postgres://placeholder:placeholder@placeholder.invalid:5432/placeholder",
    ]
}
