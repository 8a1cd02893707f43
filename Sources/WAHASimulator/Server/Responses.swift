import Foundation
import Hummingbird
import WhagoCore

/// Building answers and reading bodies.
enum Reply {
    static func json(_ value: JSONValue, status: Int = 200) -> Response {
        let data = (try? JSONEncoder.waha.encode(value)) ?? Data("null".utf8)
        return Response(status: .init(code: status), headers: [.contentType: "application/json; charset=utf-8"],
                        body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func empty(status: Int = 200) -> Response {
        Response(status: .init(code: status))
    }

    static func error(_ error: SimulatorError) -> Response {
        json(error.body, status: error.status)
    }

    /// Runs a handler, turning a ``SimulatorError`` into its answer.
    static func handle(_ body: () async throws -> Response) async -> Response {
        do {
            return try await body()
        } catch let error as SimulatorError {
            return Self.error(error)
        } catch {
            return Self.error(.badRequest("\(error)"))
        }
    }

    /// The request's JSON body (`null` when empty); a malformed body is a 400.
    static func body(_ request: Request) async throws -> JSONValue {
        var request = request
        let buffer = try await request.collectBody(upTo: 1 << 20)
        guard buffer.readableBytes > 0 else { return .null }
        do {
            return try JSONDecoder().decode(JSONValue.self, from: Data(buffer.readableBytesView))
        } catch {
            throw SimulatorError.badRequest("the body is not valid JSON")
        }
    }
}

extension SimulatedSession {
    /// WAHA's `SessionDTO`.
    var dto: JSONValue {
        var members: [String: JSONValue] = ["name": .string(name), "status": .string(status.rawValue)]
        if let config { members["config"] = config }
        return .object(members)
    }

    /// WAHA's `SessionInfo` (with the `engine` member real WAHA adds).
    func info(engine: String, worker: String?) -> JSONValue {
        var members: [String: JSONValue] = [
            "name": .string(name), "status": .string(status.rawValue),
            "presence": .object([:]),
            "timestamps": .object(["activity": lastActivity.map { .number(Double($0)) } ?? .null]),
            "engine": .object(["engine": .string(engine)]),
        ]
        if let config { members["config"] = config }
        if let me { members["me"] = me.json }
        if let worker { members["assignedWorker"] = .string(worker) }
        return .object(members)
    }
}

extension MeInfo {
    var json: JSONValue {
        var members: [String: JSONValue] = ["id": .string(id), "pushName": .string(pushName)]
        if let lid { members["lid"] = .string(lid) }
        if let jid { members["jid"] = .string(jid) }
        return .object(members)
    }
}

extension JSONEncoder {
    /// JSON as WAHA (Node.js) writes it: slashes not escaped.
    static var waha: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        return encoder
    }
}
