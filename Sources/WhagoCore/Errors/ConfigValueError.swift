/// Thrown by a configuration value type (a duration, a port range, a secret, a driver name) whose
/// text is invalid. The configuration decoder prefixes it with the `file:line:column` of the value.
public struct ConfigValueError: Error, Sendable, Hashable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
