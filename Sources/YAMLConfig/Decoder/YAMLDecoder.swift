import Foundation

/// Decodes `Decodable` types from a ``YAMLNode``, strictly, with located errors.
///
/// - Scalars are converted by the target type: `Bool` accepts only `true`/`false`, integers only
///   decimal digits, `URL` only absolute URLs; YAML 1.1's `yes`/`no`/`on`/`off` are strings.
/// - A mapping key that the target type does not know is an error that lists the known keys
///   (give `CodingKeys` a `CaseIterable` conformance so the list is complete).
/// - An error thrown by a type's own `init(from:)` is located at the value being decoded.
/// - Decoding goes on past unknown keys so that one run reports all of them; every error comes out
///   in ``YAMLErrors``, in source order. Types with independent parts can report more than their
///   first failure through the `(any Error) -> Void` found in `userInfo` under ``errorRecorderKey``.
public struct YAMLDecoder {
    /// Values the decoded types can read from `Decoder.userInfo`.
    public var userInfo: [CodingUserInfoKey: any Sendable]
    /// The placeholders the parser recorded (see ``Placeholders``): scalars holding one decode
    /// as a stand-in their type accepts, and errors about them alone are listed there instead.
    public var placeholders: Placeholders?

    public init(userInfo: [CodingUserInfoKey: any Sendable] = [:], placeholders: Placeholders? = nil) {
        self.userInfo = userInfo
        self.placeholders = placeholders
    }

    /// The `userInfo` key (raw value `placeholderRecorder`) of a `@Sendable (String) -> Void` that
    /// types call when they accept a placeholder of their own (a secret file that does not exist);
    /// present only when decoding with ``placeholders``.
    public static let placeholderRecorderKey = CodingUserInfoKey(rawValue: "placeholderRecorder")!

    /// The `userInfo` key of the error recorder (raw value `errorRecorder`).
    public static let errorRecorderKey = CodingUserInfoKey(rawValue: "errorRecorder")!

    /// The `userInfo` key (raw value `configurationFile`, value `true`) that tells types they are
    /// read from a configuration file a deployer wrote, where a secret may name a file to read
    /// (`file:/run/secrets/x`). Decoders of stored data never set it.
    public static let configurationFileKey = CodingUserInfoKey(rawValue: "configurationFile")!

    /// Decodes `type` from `node`.
    public func decode<T: Decodable>(_ type: T.Type, from node: YAMLNode) throws(YAMLErrors) -> T {
        var userInfo = userInfo
        // A secret file that does not exist is a placeholder only when placeholders are wanted;
        // strict checking (unset variables as errors) keeps it an error.
        if let placeholders, !placeholders.unsetVariablesAreErrors {
            userInfo[YAMLDecoder.placeholderRecorderKey] = { @Sendable (what: String) in placeholders.record(what) }
        }
        let state = DecodingState(userInfo: userInfo, placeholders: placeholders)
        do {
            let value = try state.decode(type, from: node, path: [])
            state.reportUnknownKeys()
            let errors = state.reportableErrors()
            guard errors.isEmpty else { throw YAMLErrors(errors) }
            return value
        } catch let error as YAMLErrors {
            throw error
        } catch let error as YAMLError {
            state.errors.append(error)
            state.reportUnknownKeys()
            throw YAMLErrors(state.reportableErrors(failed: true))
        } catch {
            state.errors.append(YAMLError(String(describing: error), at: node.mark))
            throw YAMLErrors(state.reportableErrors(failed: true))
        }
    }
}

/// What one `decode` call shares between its decoders: the errors found so far and the keyed
/// containers whose unknown keys are checked at the end.
final class DecodingState {
    private(set) var userInfo: [CodingUserInfoKey: Any]
    var errors: [YAMLError] = []
    var trackers: [KeyTracker] = []
    let placeholders: Placeholders?

    init(userInfo: [CodingUserInfoKey: any Sendable], placeholders: Placeholders? = nil) {
        self.placeholders = placeholders
        var userInfo: [CodingUserInfoKey: Any] = userInfo
        self.userInfo = userInfo
        userInfo[YAMLDecoder.errorRecorderKey] = { [unowned self] (error: any Error) in self.record(error) } as (any Error) -> Void
        userInfo[YAMLDecoder.configurationFileKey] = true
        self.userInfo = userInfo
    }

    /// Keeps an error reported without being thrown.
    func record(_ error: any Error) {
        switch error {
        case let error as YAMLError: errors.append(error)
        case let error as YAMLErrors: errors += error.errors
        default: errors.append(YAMLError(String(describing: error), at: nil))
        }
    }

    var sortedErrors: [YAMLError] {
        var seen = Set<YAMLError>()
        return errors.filter { seen.insert($0).inserted }.sorted {
            ($0.mark?.line ?? 0, $0.mark?.column ?? 0) < ($1.mark?.line ?? 0, $1.mark?.column ?? 0)
        }
    }

    /// The errors to report: with placeholders, those about a scalar that holds one are listed
    /// there as not checked instead (its real value is not known here) — unless nothing could be
    /// decoded (`failed`: no stand-in fits the scalar's type), when they stay errors and say why.
    /// Call it once.
    func reportableErrors(failed: Bool = false) -> [YAMLError] {
        guard let placeholders else { return sortedErrors }
        if placeholders.unsetVariablesAreErrors {
            // Strict: each unset variable is an error where it is written; what its stand-in did
            // to the scalar holding it says nothing more.
            errors = placeholders.errors + errors.filter { error in error.mark.map { !placeholders.holdsPlaceholder($0) } ?? true }
            return sortedErrors
        }
        return sortedErrors.compactMap { error in
            guard let mark = error.mark, placeholders.holdsPlaceholder(mark) else { return error }
            if failed {
                return YAMLError(error.message + " (the value is a placeholder for an unset variable, and no stand-in fits its type: set the variable)", at: mark)
            }
            placeholders.record("not checked, it holds a placeholder: \(error.message)", at: mark)
            return nil
        }
    }

    /// Decodes one value, turning the type's own errors into located ``YAMLError``s. A scalar
    /// holding a placeholder decodes as the first stand-in its type accepts.
    func decode<T: Decodable>(_ type: T.Type, from node: YAMLNode, path: [any CodingKey]) throws -> T {
        if let placeholders, node.scalar != nil, placeholders.holdsPlaceholder(node.mark) {
            let recorded = errors.count
            for standIn in Placeholders.standIns {
                let substitute = YAMLNode(.scalar(standIn, .plain), mark: node.mark, tag: node.tag)
                if let value = try? decodeValue(type, from: substitute, path: path) { return value }
                errors.removeSubrange(recorded...)
            }
        }
        return try decodeValue(type, from: node, path: path)
    }

    private func decodeValue<T: Decodable>(_ type: T.Type, from node: YAMLNode, path: [any CodingKey]) throws -> T {
        if type == URL.self {
            return try decodeURL(node, path: path) as! T
        }
        let firstTracker = trackers.count
        do {
            let value = try T(from: NodeDecoder(node: node, codingPath: path, state: self))
            for tracker in trackers[firstTracker...] { tracker.complete = true }
            return value
        } catch let error as YAMLError {
            throw error
        } catch let error as DecodingError {
            throw translate(error, type: type, node: node, path: path)
        } catch {
            throw YAMLError(prefixed(path, String(describing: error)), at: node.mark)
        }
    }

    private func decodeURL(_ node: YAMLNode, path: [any CodingKey]) throws -> URL {
        let text = try scalar(node, path: path, expected: "a URL")
        guard let url = URL(string: text), let scheme = url.scheme, !scheme.isEmpty,
              !["http", "https"].contains(scheme.lowercased()) || !(url.host ?? "").isEmpty
        else {
            throw YAMLError(prefixed(path, "expected an absolute URL such as http://127.0.0.1:8080, found \(node.description(at: path))"), at: node.mark)
        }
        return url
    }

    /// The text of a scalar node, or an error naming what was expected.
    func scalar(_ node: YAMLNode, path: [any CodingKey], expected: String) throws -> String {
        guard let text = node.scalar, !node.isNull else {
            throw YAMLError(prefixed(path, "expected \(expected), found \(node.description(at: path))"), at: node.mark)
        }
        return text
    }

    private func translate<T>(_ error: DecodingError, type: T.Type, node: YAMLNode, path: [any CodingKey]) -> YAMLError {
        switch error {
        case .dataCorrupted(let context) where context.codingPath.count == path.count:
            if let choices = caseNames(of: type), let text = node.scalar {
                return YAMLError(prefixed(path, "invalid value \(SecretKeys.quoted(text, at: path)) (expected one of: \(choices.joined(separator: ", ")))"), at: node.mark)
            }
            return YAMLError(prefixed(path, context.debugDescription), at: node.mark)
        case .dataCorrupted(let context), .typeMismatch(_, let context), .valueNotFound(_, let context), .keyNotFound(_, let context):
            // The error names a key below this node: point at that key's value when it exists.
            let place = context.codingPath.dropFirst(path.count).reduce(Optional(node)) { current, key in
                key.intValue.map { index in current?.sequence.flatMap { $0.indices.contains(index) ? $0[index] : nil } } ?? current?[key.stringValue]
            }
            return YAMLError(prefixed(context.codingPath, context.debugDescription), at: (place ?? node).mark)
        @unknown default:
            return YAMLError(prefixed(path, String(describing: error)), at: node.mark)
        }
    }

    private func caseNames<T>(of type: T.Type) -> [String]? {
        guard let iterable = type as? any CaseIterable.Type else { return nil }
        func names<C: CaseIterable>(_ type: C.Type) -> [String] {
            C.allCases.map { value in (value as? any RawRepresentable).map { "\($0.rawValue)" } ?? "\(value)" }
        }
        return names(iterable)
    }

    /// Records an error for every key no decoder asked for. A container whose keys are not all known
    /// up front (no `CaseIterable` coding keys) is only checked when its decoding finished: keys
    /// after a failure may simply not have been reached.
    func reportUnknownKeys() {
        for tracker in trackers where tracker.complete || tracker.known != nil {
            let expected = tracker.known ?? tracker.accessedInOrder
            let allowed = Set(expected).union(tracker.accessed)
            for (name, mark) in tracker.keys where !allowed.contains(name) {
                let list = expected.isEmpty ? "this section takes no keys" : "expected one of: \(expected.joined(separator: ", "))"
                errors.append(YAMLError("unknown key '\(name)' \(describePlace(tracker.path)) (\(list))", at: mark))
            }
        }
    }
}

/// The keys of one mapping, and which of them the decoded type knows or asked for.
final class KeyTracker {
    let path: [any CodingKey]
    let keys: [(String, YAMLMark)]
    var known: [String]?
    /// Whether the value this mapping was decoded into was completely decoded.
    var complete = false
    var accessed: Set<String> = []
    var accessedInOrder: [String] = []

    init(path: [any CodingKey], keys: [(String, YAMLMark)]) {
        self.path = path
        self.keys = keys
    }

    func access(_ key: String) {
        if accessed.insert(key).inserted { accessedInOrder.append(key) }
    }
}

/// `runtime.docker.ports` or `servers[2].name` for a coding path.
func describePath(_ path: [any CodingKey]) -> String {
    var text = ""
    for key in path {
        if let index = key.intValue {
            text += "[\(index)]"
        } else {
            text += text.isEmpty ? key.stringValue : ".\(key.stringValue)"
        }
    }
    return text
}

/// `in runtime.docker` or `at the top level`.
func describePlace(_ path: [any CodingKey]) -> String {
    path.isEmpty ? "at the top level" : "in \(describePath(path))"
}

/// `path: message`, or the message alone at the top level.
func prefixed(_ path: [any CodingKey], _ message: String) -> String {
    path.isEmpty ? message : "\(describePath(path)): \(message)"
}

/// A coding key for a sequence index or a mapping key only known at run time.
struct AnyCodingKey: CodingKey {
    let stringValue: String
    let intValue: Int?

    init(stringValue: String) {
        self.stringValue = stringValue
        self.intValue = nil
    }

    init(intValue: Int) {
        self.stringValue = "\(intValue)"
        self.intValue = intValue
    }
}
