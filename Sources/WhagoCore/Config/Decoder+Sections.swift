extension CodingUserInfoKey {
    /// Where a decoder that can report several errors puts its recorder, an `(any Error) -> Void`
    /// (YAMLConfig's decoder does). Types with independent parts record the errors of all parts but
    /// the first, then throw the first, so a deployer sees every broken section in one run.
    public static let errorRecorder = CodingUserInfoKey(rawValue: "errorRecorder")!

    /// Set (to `true`) by the decoder of a configuration file (YAMLConfig's does): only there may a
    /// ``Secret`` be read from a `file:` path. Stored records never follow one.
    public static let configurationFile = CodingUserInfoKey(rawValue: "configurationFile")!

    /// Set by the decoder of a configuration checked with placeholders (a CI without secrets): a
    /// `@Sendable (String) -> Void` that a ``Secret`` calls when its `file:` does not exist, and
    /// then stands in for it.
    public static let placeholderRecorder = CodingUserInfoKey(rawValue: "placeholderRecorder")!
}

/// Decodes independent parts of a value, collecting the failure of each instead of stopping at
/// the first one.
struct SectionDecoder {
    let decoder: any Decoder
    private(set) var errors: [any Error] = []

    init(_ decoder: any Decoder) { self.decoder = decoder }

    /// The part's value, or `nil` after recording its error.
    mutating func attempt<T>(_ body: () throws -> T) -> T? {
        do {
            return try body()
        } catch {
            errors.append(error)
            return nil
        }
    }

    /// Throws the first error after handing the others to the decoder's recorder, if any.
    func finish() throws {
        guard let first = errors.first else { return }
        if let record = decoder.userInfo[.errorRecorder] as? (any Error) -> Void {
            errors.dropFirst().forEach(record)
        }
        throw first
    }
}
