import Foundation
import WhagoCore
import YAMLConfig

/// Reads a configuration: YAML file (or the embedded default) → `${VAR}` interpolation →
/// `--set` overrides → strict decoding with the compiled-in drivers.
struct ConfigLoader {
    /// The name errors use for the embedded default.
    static let embeddedSource = "<embedded whago.yaml>"

    var registry: DriverRegistry = .compiledIn
    var environment: [String: String] = ProcessInfo.processInfo.environment
    /// When set, unset variables and missing secret files are placeholders recorded here instead
    /// of errors (`check-config --placeholders`).
    var placeholders: Placeholders?

    /// Loads `path`, or the embedded default when `path` is `nil`.
    func load(path: String?, overrides: [String] = []) throws(YAMLErrors) -> WhagoConfig {
        let source = path ?? Self.embeddedSource
        let bytes: [UInt8]
        if let path {
            guard let data = FileManager.default.contents(atPath: path) else {
                let reason = FileManager.default.fileExists(atPath: path) ? "it cannot be read" : "no such file"
                throw YAMLErrors([YAMLError("cannot read configuration file '\(path)': \(reason)", at: nil)])
            }
            bytes = Array(data)
        } else {
            bytes = PackageResources.whago_yaml
        }
        return try decode(bytes, source: source, overrides: overrides)
    }

    /// Parses and decodes YAML text. Without ``placeholders`` an unset variable is an error, yet
    /// the rest of the file is still checked, so that one run reports every problem.
    func decode(_ bytes: [UInt8], source: String, overrides: [String] = []) throws(YAMLErrors) -> WhagoConfig {
        let placeholders = self.placeholders ?? Placeholders(unsetVariablesAreErrors: true)
        var root = try YAMLParser(source: source, environment: environment, placeholders: placeholders).parseSingleDocument(bytes)
            ?? YAMLNode(.mapping([]), mark: YAMLMark(source: source, line: 1, column: 1))
        do throws(YAMLError) {
            for override in overrides {
                guard let equals = override.firstIndex(of: "=") else {
                    throw YAMLError("--set '\(override)' must be KEY.PATH=VALUE, e.g. server.listen=127.0.0.1:18080", at: nil)
                }
                let path = String(override[..<equals])
                try root.set(path, to: String(override[override.index(after: equals)...]), source: "--set \(path)")
            }
        } catch {
            throw YAMLErrors([error])
        }
        let config = try YAMLDecoder(userInfo: [.driverRegistry: registry], placeholders: placeholders).decode(WhagoConfig.self, from: root)
        if let mismatch = config.proxyMismatch {
            throw YAMLErrors([YAMLError(mismatch.message, at: root.mark(at: mismatch.path))])
        }
        return config
    }
}
