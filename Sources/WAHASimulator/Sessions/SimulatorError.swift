import WhagoCore

/// An HTTP error answer, with WAHA's (NestJS's) body shapes.
struct SimulatorError: Error, Sendable {
    var status: Int
    var body: JSONValue

    private static func nest(_ status: Int, _ error: String, _ message: String) -> SimulatorError {
        SimulatorError(status: status, body: .object(["message": .string(message), "error": .string(error), "statusCode": .number(Double(status))]))
    }

    static let unauthorized = SimulatorError(status: 401, body: .object(["message": "Unauthorized", "statusCode": .number(401)]))
    static let sessionNotFound = nest(404, "Not Found", "Session not found")
    static func badRequest(_ message: String) -> SimulatorError { nest(400, "Bad Request", message) }
    static func unprocessable(_ message: String) -> SimulatorError { nest(422, "Unprocessable Entity", message) }
    static func gone(_ message: String) -> SimulatorError { nest(410, "Gone", message) }
    static func unavailable(_ message: String) -> SimulatorError { nest(503, "Service Unavailable", message) }
    static func internalError(_ message: String) -> SimulatorError { nest(500, "Internal Server Error", message) }
    static let injectedFault = nest(500, "Internal Server Error", "Injected fault (POST /_sim/faults)")

    /// WAHA's answer when a session is not in the status an endpoint needs (after waiting for it).
    static func statusNotExpected(_ session: String, _ status: SessionStatus, expected: [SessionStatus]) -> SimulatorError {
        SimulatorError(status: 422, body: .object([
            "error": "Session status is not as expected. Try again later or restart the session",
            "session": .string(session),
            "status": .string(status.rawValue),
            "expected": .array(expected.map { .string($0.rawValue) }),
        ]))
    }
}
