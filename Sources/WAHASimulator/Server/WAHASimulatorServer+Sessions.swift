import Hummingbird
import WhagoCore

extension WAHASimulatorServer {
    /// `/api/sessions…`: WAHA's session endpoints, and the deprecated ones clients still call.
    func addSessionRoutes(to router: Router<BasicRequestContext>) {
        let engine = configuration.engine
        let worker = configuration.workerID
        router.get("/api/sessions") { request, _ in
            await Reply.handle {
                let all = request.uri.queryParameters.get("all") == "true"
                return Reply.json(.array(try await sessions.list(includeStopped: all).map { $0.info(engine: engine, worker: worker) }))
            }
        }
        router.post("/api/sessions") { request, _ in
            await Reply.handle {
                let body = try await Reply.body(request)
                let name = body["name"]?.stringValue
                if let value = body["name"], value.stringValue == nil, value != .null { throw SimulatorError.badRequest("name must be a string") }
                let start: Bool = if case .bool(let flag)? = body["start"] { flag } else { true }
                let config = body["config"].flatMap { $0 == .null ? nil : $0 }
                return Reply.json(try await sessions.create(name: name, start: start, config: config).dto, status: 201)
            }
        }
        router.get("/api/sessions/:session") { _, context in
            await Reply.handle {
                Reply.json(try await sessions.anySession(try context.parameters.require("session")).info(engine: engine, worker: worker))
            }
        }
        router.put("/api/sessions/:session") { request, context in
            await Reply.handle {
                let body = try await Reply.body(request)
                let config = body["config"].flatMap { $0 == .null ? nil : $0 }
                return Reply.json(try await sessions.update(try context.parameters.require("session"), config: config).dto)
            }
        }
        router.delete("/api/sessions/:session") { _, context in
            await Reply.handle {
                try await sessions.delete(try context.parameters.require("session"))
                return Reply.empty()
            }
        }
        // `MeInfo | null` (`sessions.controller.ts` getMe): before pairing the engine has no account,
        // and Nest answers null as an empty 200 body — not the MeInfo object the spec promises.
        router.get("/api/sessions/:session/me") { _, context in
            await Reply.handle {
                let session = try await sessions.session(try context.parameters.require("session"))
                guard session.status == .working, let me = session.me else { return Response(status: .ok) }
                return Reply.json(me.json)
            }
        }
        for action in ["start", "stop", "restart", "logout"] {
            router.post("/api/sessions/:session/\(action)") { _, context in
                await Reply.handle {
                    let name = try context.parameters.require("session")
                    let session = switch action {
                    case "start": try await sessions.start(name)
                    case "stop": try await sessions.stop(name)
                    case "restart": try await sessions.restart(name)
                    default: try await sessions.logout(name)
                    }
                    return Reply.json(session.dto, status: 201)
                }
            }
        }
        addDeprecatedSessionRoutes(to: router)
    }

    /// `POST /api/sessions/start|stop|logout` with the session's name in the body: deprecated,
    /// still served by WAHA (`sessions.controller.ts`, `DEPRACATED_start`, `DEPRECATED_stop`,
    /// `DEPRECATED_logout`) and still called by older clients.
    private func addDeprecatedSessionRoutes(to router: Router<BasicRequestContext>) {
        @Sendable func name(_ body: JSONValue) throws -> String {
            guard let name = body["name"]?.stringValue, !name.isEmpty else { throw SimulatorError.unprocessable("Session name is required") }
            return name
        }
        // Upsert and start: created when missing, its config replaced when given, then started.
        router.post("/api/sessions/start") { request, _ in
            await Reply.handle {
                let body = try await Reply.body(request)
                let session = try name(body)
                let config = body["config"].flatMap { $0 == .null ? nil : $0 }
                if let current = try? await sessions.session(session), current.status != .stopped {
                    throw SimulatorError.unprocessable("Session '\(session)' is already started.")
                }
                if (try? await sessions.anySession(session)) == nil {
                    return Reply.json(try await sessions.create(name: session, start: true, config: config).dto, status: 201)
                }
                if body["config"] != nil { _ = try await sessions.update(session, config: config) }
                return Reply.json(try await sessions.start(session).dto, status: 201)
            }
        }
        // Stop, and log out too when asked (then the session is deleted, as the old API did).
        router.post("/api/sessions/stop") { request, _ in
            await Reply.handle {
                let body = try await Reply.body(request)
                let session = try name(body)
                if case .bool(true)? = body["logout"] {
                    _ = try await sessions.logout(session)
                    try await sessions.delete(session)
                } else {
                    _ = try await sessions.stop(session)
                }
                return Response(status: .created)
            }
        }
        // Stop, log out and delete.
        router.post("/api/sessions/logout") { request, _ in
            await Reply.handle {
                let session = try name(try await Reply.body(request))
                _ = try await sessions.logout(session)
                try await sessions.delete(session)
                return Response(status: .created)
            }
        }
    }
}
