import CurlHTTP
import Foundation
import Testing
import WhagoCore
import WhagoTesting

@Suite("The simulator against WAHA's OpenAPI spec", .enabled(if: OpenAPIContract.shared != nil || TestServices.required), .timeLimit(.minutes(10)))
struct ContractTests {
    private func contract() throws -> OpenAPIContract {
        try #require(OpenAPIContract.shared, "waha-openapi.json not found beside the repository (../shared/reference) nor at $WHAGO_WAHA_OPENAPI")
    }

    @Test("every implemented endpoint answers with the schema of its operation")
    func everyEndpoint() async throws {
        let contract = try contract()
        let simulator = try await Simulator.start()
        defer { simulator.stop() }
        func check(_ method: HTTPClientRequest.Method, _ path: String, spec specPath: String, status: Int, json: JSONValue? = nil,
                   headers: [(name: String, value: String)] = [], sourceLocation: SourceLocation = #_sourceLocation) async throws -> JSONValue {
            let response = try await simulator.call(method, path, json: json, headers: headers)
            #expect(response.status == status, "\(method) \(path): \(response.text)", sourceLocation: sourceLocation)
            let body = try #require(response.json, "\(method) \(path) answered no JSON: \(response.text)", sourceLocation: sourceLocation)
            #expect(contract.violations(of: body, method.rawValue, specPath, status: status) == [], "\(method) \(path)", sourceLocation: sourceLocation)
            return body
        }
        _ = try await check(.get, "/ping", spec: "/ping", status: 200)
        _ = try await check(.get, "/health", spec: "/health", status: 200)
        _ = try await check(.get, "/api/server/version", spec: "/api/server/version", status: 200)
        _ = try await check(.get, "/api/server/status", spec: "/api/server/status", status: 200)
        let nobody = try RefusingPort()
        _ = try await check(.post, "/api/sessions", spec: "/api/sessions", status: 201,
                            json: .object(["name": "c1", "config": webhookConfig("\(nobody.url)/hook")]))
        _ = try await check(.post, "/api/sessions", spec: "/api/sessions", status: 201, json: .object(["name": "idle", "start": .bool(false)]))
        let all = try await check(.get, "/api/sessions?all=true", spec: "/api/sessions", status: 200)
        #expect(all.arrayCount == 2)
        try await simulator.waitForStatus("c1", "SCAN_QR_CODE")
        _ = try await check(.get, "/api/sessions/c1", spec: "/api/sessions/{session}", status: 200)
        _ = try await check(.put, "/api/sessions/c1", spec: "/api/sessions/{session}", status: 200,
                            json: .object(["config": .object(["metadata": .object(["a": "b"])])]))
        try await simulator.waitForStatus("c1", "SCAN_QR_CODE")
        _ = try await check(.get, "/api/c1/auth/qr", spec: "/api/{session}/auth/qr", status: 200, headers: [("Accept", "application/json")])
        _ = try await check(.get, "/api/c1/auth/qr?format=raw", spec: "/api/{session}/auth/qr", status: 200)
        try await simulator.call(.post, "/_sim/sessions/c1/pair")
        _ = try await check(.get, "/api/sessions/c1", spec: "/api/sessions/{session}", status: 200)
        _ = try await check(.get, "/api/sessions/c1/me", spec: "/api/sessions/{session}/me", status: 200)
        _ = try await check(.post, "/api/sendText", spec: "/api/sendText", status: 201,
                            json: .object(["session": "c1", "chatId": "5511999990000@c.us", "text": "hello"]))
        for action in ["restart", "logout", "stop", "start"] {
            _ = try await check(.post, "/api/sessions/c1/\(action)", spec: "/api/sessions/{session}/\(action)", status: 201)
        }
    }

    @Test("the validator fails when a field is renamed or retyped")
    func validatorIsStrict() throws {
        let contract = try contract()
        let good: JSONValue = .object(["name": "c1", "status": "WORKING", "config": .object(["metadata": .object(["a": "b"])])])
        #expect(contract.violations(of: good, "POST", "/api/sessions", status: 201) == [])
        let renamed: JSONValue = .object(["name": "c1", "state": "WORKING"])
        #expect(!contract.violations(of: renamed, "POST", "/api/sessions", status: 201).isEmpty)
        let retyped: JSONValue = .object(["name": "c1", "status": .number(3)])
        #expect(!contract.violations(of: retyped, "POST", "/api/sessions", status: 201).isEmpty)
        let badEnum: JSONValue = .object(["name": "c1", "status": "ONLINE"])
        #expect(!contract.violations(of: badEnum, "POST", "/api/sessions", status: 201).isEmpty)
        let me: JSONValue = .object(["id": "1@c.us", "pushName": .number(1)])
        #expect(!contract.violations(of: me, "GET", "/api/sessions/{session}/me", status: 200).isEmpty)
    }
}

extension JSONValue {
    var arrayCount: Int? {
        if case .array(let items) = self { items.count } else { nil }
    }
}
