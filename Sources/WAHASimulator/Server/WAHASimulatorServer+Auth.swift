import Foundation
import Hummingbird
import Synchronization
import WhagoCore

extension WAHASimulatorServer {
    /// `/api/{session}/auth/qr` and `/api/{session}/auth/request-code`.
    func addAuthRoutes(to router: Router<BasicRequestContext>) {
        router.get("/api/:session/auth/qr") { request, context in
            await Reply.handle {
                let qr = try await sessions.currentQR(try context.parameters.require("session"))
                if request.uri.queryParameters.get("format") == "raw" {
                    return Reply.json(.object(["value": .string(qr.value)]))
                }
                guard let png = QRImage.png(for: qr.value) else { throw SimulatorError.badRequest("could not draw the QR code") }
                if request.headers[.accept] == "application/json" {
                    return Reply.json(.object(["mimetype": "image/png", "data": .string(Data(png).base64EncodedString())]))
                }
                return Response(status: .ok, headers: [.contentType: "image/png"], body: .init(byteBuffer: ByteBuffer(bytes: png)))
            }
        }
        router.post("/api/:session/auth/request-code") { request, context in
            await Reply.handle {
                let body = try await Reply.body(request)
                guard let phone = body["phoneNumber"]?.stringValue, !phone.isEmpty, phone.allSatisfy(\.isNumber) else {
                    throw SimulatorError.badRequest("phoneNumber must be the number in international format, digits only")
                }
                let code = try await sessions.requestCode(try context.parameters.require("session"))
                return Reply.json(.object(["code": .string(code)]), status: 201)
            }
        }
    }

    /// `/api/sendText` and `/api/contacts/check-exists`.
    func addMessageRoutes(to router: Router<BasicRequestContext>) {
        router.get("/api/contacts/check-exists") { request, _ in
            await Reply.handle {
                guard let session = request.uri.queryParameters.get("session"), let phone = request.uri.queryParameters.get("phone") else {
                    throw SimulatorError.badRequest("session and phone are required query parameters")
                }
                return Reply.json(try await sessions.checkExists(session, phone: phone))
            }
        }
    }

    /// `/_sim/…`: controls for tests and demos (outside WAHA's namespace).
    func addControlRoutes(to router: Router<BasicRequestContext>) {
        router.post("/_sim/sessions/:session/pair") { request, context in
            await Reply.handle {
                let phone = try await Reply.body(request)["phone"]?.stringValue
                let session = try await sessions.pair(try context.parameters.require("session"), phone: phone)
                return Reply.json(session.info(engine: configuration.engine, worker: configuration.workerID))
            }
        }
        router.post("/_sim/sessions/:session/fail") { request, context in
            await Reply.handle {
                let reason = try await Reply.body(request)["reason"]?.stringValue
                let session = try await sessions.fail(try context.parameters.require("session"), reason: reason)
                return Reply.json(session.dto)
            }
        }
        router.post("/_sim/sessions/:session/inbound") { request, context in
            await Reply.handle {
                let body = try await Reply.body(request)
                let message = try await sessions.inbound(
                    try context.parameters.require("session"), from: body["from"]?.stringValue ?? "5511988887777@c.us",
                    body: body["body"]?.stringValue ?? "Hello from the simulator")
                return Reply.json(message, status: 201)
            }
        }
        router.post("/_sim/scan") { request, _ in
            await Reply.handle {
                guard let value = try await Reply.body(request)["qr"]?.stringValue else {
                    throw SimulatorError.badRequest("expected {\"qr\": \"waha-sim://…\"}")
                }
                let session = try await sessions.scan(value)
                return Reply.json(session.info(engine: configuration.engine, worker: configuration.workerID))
            }
        }
        // How many times each session was started on this worker (a session started on two
        // workers, or started again needlessly, shows here).
        router.get("/_sim/starts") { _, _ in
            Reply.json(.object(await sessions.starts.mapValues { .number(Double($0)) }))
        }
        router.post("/_sim/faults") { request, _ in
            await Reply.handle {
                let body = try await Reply.body(request)
                // Clamped, never trapped on: 0 to 60 s of latency, a rate from 0 to 1 (NaN is 0).
                var milliseconds = 0.0
                if case .number(let value)? = body["latencyMs"], value.isFinite { milliseconds = min(60_000, max(0, value.rounded())) }
                var rate = 0.0
                if case .number(let value)? = body["errorRate"], value.isFinite { rate = min(1, max(0, value)) }
                let latency = Duration.milliseconds(Int64(milliseconds))
                faults.faults.withLock { $0 = FaultInjector.Faults(latency: latency, errorRate: rate) }
                return Reply.json(.object(["latencyMs": .number(milliseconds), "errorRate": .number(rate)]))
            }
        }
    }
}
