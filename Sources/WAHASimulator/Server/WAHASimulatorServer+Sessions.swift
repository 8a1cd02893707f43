import Hummingbird
import WhagoCore

extension WAHASimulatorServer {
    /// `/api/sessions…`: WAHA's session endpoints.
    func addSessionRoutes(to router: Router<BasicRequestContext>) {
        let engine = configuration.engine
        let worker = configuration.workerID
        router.get("/api/sessions") { request, _ in
            let all = request.uri.queryParameters.get("all") == "true"
            return Reply.json(.array(await sessions.list(includeStopped: all).map { $0.info(engine: engine, worker: worker) }))
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
                Reply.json(try await sessions.session(try context.parameters.require("session")).info(engine: engine, worker: worker))
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
        router.get("/api/sessions/:session/me") { _, context in
            await Reply.handle {
                let session = try await sessions.session(try context.parameters.require("session"))
                return Reply.json(session.status == .working ? session.me?.json ?? .null : .null)
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
    }
}
