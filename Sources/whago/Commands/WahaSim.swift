import ArgumentParser
import CurlHTTP
import Foundation
import Logging
import WAHASimulator
import WhagoCore

/// `whago waha-sim`: a WAHA-compatible server for development and tests. The command itself runs
/// the server (so `--help` lists the server's options); `scan` is the virtual phone.
struct WahaSim: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "waha-sim",
        abstract: "Run a WAHA-compatible simulator (sessions, real QR codes, webhooks), or scan one of its QR codes.",
        discussion: """
            The simulator answers WAHA's HTTP API for everything whago uses, with WAHA's status codes and \
            JSON shapes, so whago can be tried and tested without WhatsApp. It honours WAHA's environment \
            variables (PORT, WAHA_API_KEY, WHATSAPP_DEFAULT_ENGINE, WAHA_API_KEY_EXCLUDE_PATH, WAHA_WORKER_ID, \
            WAHA_PUBLIC_URL); options override them. `whago waha-sim serve …` is the same as `whago waha-sim …`.
            """,
        subcommands: [WahaSimServe.self, WahaSimScan.self]
    )

    @OptionGroup var options: SimulatorOptions
    @OptionGroup var logOptions: LogOptions

    func run() async throws { try await options.serve(logLevel: logOptions.logLevel) }
}

/// `whago waha-sim serve`: the simulator, as `whago waha-sim` runs it.
struct WahaSimServe: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "serve", abstract: "Run the simulator (what `whago waha-sim` does).")

    @OptionGroup var options: SimulatorOptions
    @OptionGroup var logOptions: LogOptions

    func run() async throws { try await options.serve(logLevel: logOptions.logLevel) }
}

/// The simulator's options.
struct SimulatorOptions: ParsableArguments {
    @Option(help: "Port to listen on (default: $PORT, $WHATSAPP_API_PORT or 3000; 0 picks a free one).")
    var port: Int?

    @Option(help: "Address to listen on (default: $WAHA_SIM_HOST or 127.0.0.1).")
    var host: String?

    @Option(name: .customLong("api-key"), help: "API key clients must send as X-Api-Key: plain or sha512:<hex> (default: $WAHA_API_KEY).")
    var apiKey: String?

    @Option(name: .customLong("time-scale"), help: "Divide every life-cycle delay (QR validity, start-up, retries) by this.")
    var timeScale: Double = 1

    @Option(help: "Keep sessions in this directory across restarts (WAHA's /app/.sessions).")
    var data: String?

    @Option(name: .customLong("probe-url"), help: "What a session fetches through its proxy at start (default: this simulator's /ping).")
    var probeURL: String?

    @Option(name: .customLong("public-url"), help: "The address QR values name (default: $WAHA_PUBLIC_URL, else the listening address).")
    var publicURL: String?

    func validate() throws {
        guard timeScale > 0 else { throw ValidationError("--time-scale must be greater than 0") }
        if let port, !(0...65535).contains(port) { throw ValidationError("--port must be in 0...65535") }
    }

    /// Runs the simulator until it is stopped.
    func serve(logLevel: String) async throws {
        let logger = LogSetup.bootstrap(level: logLevel)
        var configuration = SimulatorConfiguration.fromEnvironment(ProcessInfo.processInfo.environment)
        if let port { configuration.port = port }
        if let host { configuration.host = host }
        if let apiKey { configuration.apiKey = apiKey }
        if let data { configuration.dataDirectory = data }
        if let probeURL { configuration.probeURL = probeURL }
        if let publicURL { configuration.publicURL = publicURL }
        configuration.timeScale = timeScale
        if configuration.apiKey == nil {
            logger.warning("no API key: every request is accepted (set --api-key or WAHA_API_KEY)")
        }
        let settings = configuration
        let server = try WAHASimulatorServer(configuration: settings, logger: logger)
        try await server.run { port in
            logger.notice("WAHA simulator \(SimulatedWAHA.version) listening on \(settings.host):\(port)",
                          metadata: ["engine": "\(settings.engine)", "timeScale": "\(settings.timeScale)"])
        }
    }
}

/// `whago waha-sim scan <value>`: the virtual phone.
struct WahaSimScan: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scan",
        abstract: "Scan a simulator QR code, as a phone would: pairs its session.",
        discussion: "VALUE is the QR's raw value (waha-sim://host:port/session/nonce), e.g. from GET /api/{session}/auth/qr?format=raw."
    )

    @Argument(help: ArgumentHelp("The QR code's value.", valueName: "value"))
    var value: String

    func run() async throws {
        guard value.hasPrefix("waha-sim://"), let authority = value.dropFirst("waha-sim://".count).split(separator: "/").first else {
            throw ValidationError("not a simulator QR value: expected waha-sim://host:port/session/nonce")
        }
        let body = try JSONEncoder().encode(["qr": value])
        let response: HTTPClientResponse
        do {
            response = try await HTTPClient.shared.execute(HTTPClientRequest(
                .post, "http://\(authority)/_sim/scan", headers: [("Content-Type", "application/json")], body: Array(body), timeout: .seconds(10)))
        } catch {
            FileHandle.standardError.write(Data("cannot reach the simulator at \(authority): \(error)\n".utf8))
            throw ExitCode(1)
        }
        let json = try? JSONDecoder().decode(JSONValue.self, from: Data(response.body))
        guard response.status == 200 else {
            let message = json?["message"]?.stringValue ?? json?["error"]?.stringValue ?? response.text
            FileHandle.standardError.write(Data("scan refused (\(response.status)): \(message)\n".utf8))
            throw ExitCode(1)
        }
        let session = json?["name"]?.stringValue ?? "?"
        let phone = json?["me"]?["id"]?.stringValue ?? "?"
        print("paired session \(session) as \(phone)")
    }
}
