import Foundation
import WhagoTesting

/// The repository's `Config/` directory.
let configDirectory = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Config").path

/// The environment the sample configurations need: every `${VAR}` they use, with secret files in `directory`.
func sampleEnvironment(in directory: TemporaryDirectory) throws -> [String: String] {
    [
        "DATAIMPULSE_LOGIN": "sample-login",
        "DATAIMPULSE_PASSWORD_FILE": try directory.write("dataimpulse", "sample-password\n"),
        "WHAGO_ADMIN_TOKEN_FILE": try directory.write("admin-token", "sample-admin-token-0123456789abcdef\n"),
        "WHAGO_DATABASE_URL": "postgres://whago:sample@127.0.0.1:5432/whago",
        "WAHA_SESSIONS_DATABASE_URL": "postgres://waha:sample@127.0.0.1:5432/waha",
        "PROXY_PASSWORD": "sample",
    ]
}

/// Runs the built `whago` binary.
func whago(_ arguments: String..., environment: [String: String] = [:], directory: String? = nil) async throws -> (status: Int32, stdout: String, stderr: String) {
    try await ChildProcess.run(WhagoBinary.path, arguments, environment: environment, directory: directory)
}
