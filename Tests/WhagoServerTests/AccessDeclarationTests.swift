import Foundation
import Testing
@testable import WhagoServer

/// Who may call what is declared once, in openapi.yaml, next to each operation.
@Suite("Access declared per operation (x-whago-access)")
struct AccessDeclarationTests {
    @Test("every operation of openapi.yaml declares its access, and the middleware lets in whom it says")
    func declared() {
        #expect(OpenAPIDocument.undeclaredAccess.isEmpty, "\(OpenAPIDocument.undeclaredAccess)")
        #expect(OpenAPIDocument.access.count == OpenAPIDocument.operations.count)
        for id in ["createTenant", "listTenants", "getTenant", "updateTenant", "deleteTenant", "rotateTenantKey", "listWorkers"] {
            #expect(APIMiddleware.access(id) == .admin, "\(id)")
        }
        for id in ["healthz", "readyz", "openAPIDocument"] { #expect(APIMiddleware.access(id) == .open, "\(id)") }
        #expect(APIMiddleware.access("metrics") == .metrics, "open unless server.metricsToken is set")
        for id in ["getAccount", "listDeadLetters", "retryDeadLetter"] { #expect(APIMiddleware.access(id) == .adminOrTenant, "\(id)") }
        for id in ["createChip", "listChips", "getChip", "deleteChip", "sendMessage", "listEvents", "wahaPassThroughGet", "wahaPassThroughDelete"] {
            #expect(APIMiddleware.access(id) == .tenant, "\(id)")
        }
        #expect(WAHAPassThroughRoute.methods.allSatisfy { OpenAPIDocument.access[WAHAPassThroughRoute.operationID($0)] == "tenant" })
        #expect(APIMiddleware.access("somethingNew") == .admin, "an operation the document does not know lets only the admin in")
    }

    @Test("an operation without x-whago-access, or with an unknown one, is listed (and whago does not start)")
    func undeclared() throws {
        let document = """
            {"paths": {"/a": {"get": {"operationId": "a", "x-whago-access": "tenant"}, "post": {"operationId": "b"}},
                       "/c": {"delete": {"operationId": "c", "x-whago-access": "everyone"}}}}
            """
        #expect(OpenAPIDocument.undeclaredAccess(in: Array(document.utf8)) == ["DELETE /c (c)", "POST /a (b)"])
    }
}
