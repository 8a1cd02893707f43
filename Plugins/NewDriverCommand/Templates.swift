import Foundation
import PackagePlugin

/// The generated files.
enum Templates {
    static func source(_ request: Request, requirements: Requirements) -> String {
        let target = request.target
        let kind = request.kind
        let configuration = "\(target)Configuration"
        var members: [String] = []
        for item in requirements.items {
            members.append(member(item, request: request))
        }
        let sample = sampleSection(request)
        // Requirements that name Foundation's types (a store's dates) make Foundation part of the
        // driver's public API (InternalImportsByDefault).
        let foundationTypes = ["Date", "URL", "Data", "TimeInterval", "UUID"]
        let publicFoundation = requirements.items.contains { item in
            foundationTypes.contains { item.declaration.range(of: "\\b\($0)\\b", options: .regularExpression) != nil }
        }
        return """
            \(publicFoundation ? "public import" : "import") Foundation
            public import WhagoCore

            /// The `\(request.driverName)` \(kind.rawValue) driver.
            ///
            /// A skeleton made by `swift package new-driver`: every requirement of ``\(kind.protocolName)``
            /// throws `not_implemented` until it is written. The contract each one must keep is in
            /// `Sources/WhagoCore/Drivers/\(kind.protocolName).swift`; the conformance test in
            /// `Tests/\(target)Tests` checks it.
            public struct \(target): \(kind.protocolName) {
                /// The registration entry (listed in `DriverRegistry+CompiledIn.swift`).
                public static let driver = Driver<any \(kind.protocolName)>(
                    kind: .\(kind.rawValue), name: "\(request.driverName)",
                    summary: "TODO: one line saying what the \(request.driverName) driver does",
                    sampleConfig: \(configuration).sample,
                    configuration: \(configuration).self
                ) { configuration, _ in
                    \(target)(configuration: configuration)
                }

                let configuration: \(configuration)

                init(configuration: \(configuration)) {
                    self.configuration = configuration
                }

                /// An error naming this driver and what it does not do yet.
                func notImplemented(_ what: String) -> WhagoError {
                    .notImplemented(driver: "\(request.driverName)", what)
                }

                public func healthCheck() async -> HealthReport {
                    .error("the \(request.driverName) driver is not implemented yet", fix: "implement Sources/Drivers/\(target)")
                }

            \(members.joined(separator: "\n\n"))
            }

            /// `\(kind.rawValue).\(request.driverName)`: the driver's settings, every one with a default.
            struct \(configuration): DriverConfiguration {
            \(configurationFields(kind))

                init() {}

                init(from decoder: any Decoder) throws {
                    let container = try decoder.container(keyedBy: CodingKeys.self)
            \(configurationDecoding(kind))
                }

                /// The driver's YAML section with every key at its default (`whago drivers` prints it).
                static let sample = \"\"\"
            \(sample)
                    \"\"\"
            }

            """
    }

    /// One requirement, implemented as a stub.
    static func member(_ item: Requirements.Requirement, request: Request) -> String {
        let declaration = "    public " + item.declaration
        if !item.isFunction {
            let value: String = switch (item.name, item.resultType ?? "") {
            case ("name", _): "\"\(request.driverName)\""
            case ("workerPorts", _): "WorkerPorts(host: configuration.host, range: configuration.ports, setting: \"runtime.\(request.driverName).ports\")"
            case (_, let type) where type.hasSuffix("?"): "nil"
            case (_, "Int"): "1"
            case (_, "Bool"): "false"
            case (_, "String"): "\"\""
            case (_, let type) where type.hasPrefix("[") && type.contains(":"): "[:] /* TODO: \(item.name), see the protocol's documentation */"
            case (_, let type) where type.hasPrefix("["): "[] /* TODO: \(item.name), see the protocol's documentation */"
            default: "fatalError(\"\\(notImplemented(\"\(item.name)\"))\")"
            }
            let head = declaration.replacingOccurrences(of: "{ get }", with: "").trimmingCharacters(in: .whitespaces)
            return "    \(head) { \(value) }"
        }
        if item.throwing {
            return "\(declaration) {\n        throw notImplemented(\"\(item.name)\")\n    }"
        }
        // Requirements that cannot throw get a harmless answer, and say so.
        let body: String = switch item.name {
        case "events": "AsyncThrowingStream { $0.finish(throwing: notImplemented(\"events\")) }"
        case "workerTemplate":
            "// TODO: the image, environment, port, data path and health path of a worker.\n        WorkerTemplate(image: configuration.image, environment: [:], internalPort: 3000, dataPath: \"/app/.sessions\", healthPath: \"/ping\")"
        default:
            (item.resultType ?? "").hasSuffix("?") ? "nil // TODO: implement \(item.name) (see the protocol's documentation)" : "fatalError(\"\\(notImplemented(\"\(item.name)\"))\")"
        }
        return "\(declaration) {\n        \(body)\n    }"
    }

    static func configurationFields(_ kind: Request.Kind) -> String {
        var fields = ["    /// TODO: what the driver talks to.", "    var endpoint = \"http://127.0.0.1:8080\"",
                      "    /// How long one call may take.", "    var timeout: TimeSpan = .seconds(10)"]
        var keys = ["endpoint", "timeout"]
        switch kind {
        case .runtime:
            fields += ["    /// The address whago reaches workers at.", "    var host = \"127.0.0.1\"",
                       "    /// The ports workers are published on, one per worker.", "    var ports = PortRange(\"3100-3199\")!"]
            keys += ["host", "ports"]
        case .sessions:
            fields += ["    /// The worker image.", "    var image = \"TODO/image:tag\""]
            keys += ["image"]
        case .proxy, .store:
            break
        }
        return (fields + ["", "    enum CodingKeys: String, CodingKey, CaseIterable { case \(keys.joined(separator: ", ")) }"]).joined(separator: "\n")
    }

    static func configurationDecoding(_ kind: Request.Kind) -> String {
        var lines = ["        endpoint = try container.decodeIfPresent(String.self, forKey: .endpoint) ?? endpoint",
                     "        timeout = try container.decodeIfPresent(TimeSpan.self, forKey: .timeout) ?? timeout"]
        switch kind {
        case .runtime:
            lines += ["        host = try container.decodeIfPresent(String.self, forKey: .host) ?? host",
                      "        ports = try container.decodeIfPresent(PortRange.self, forKey: .ports) ?? ports"]
        case .sessions:
            lines += ["        image = try container.decodeIfPresent(String.self, forKey: .image) ?? image"]
        case .proxy, .store:
            break
        }
        return lines.joined(separator: "\n")
    }

    static func sampleSection(_ request: Request) -> String {
        var lines = ["        \(request.driverName):",
                     "          endpoint: http://127.0.0.1:8080   # TODO: what the driver talks to",
                     "          timeout: 10s                      # how long one call may take"]
        switch request.kind {
        case .runtime:
            lines += ["          host: 127.0.0.1                   # the address whago reaches workers at",
                      "          ports: 3100-3199                  # one port per worker"]
        case .sessions:
            lines += ["          image: TODO/image:tag             # the worker image"]
        case .proxy, .store:
            break
        }
        return lines.joined(separator: "\n")
    }

    static func test(_ request: Request) -> String {
        let target = request.target
        let header = """
            import Foundation
            import Testing
            @testable import \(target)
            import WhagoCore
            import WhagoTesting

            // The \(request.kind.rawValue) conformance suite, run against the \(request.driverName) driver. It fails
            // until the driver is implemented: that is the point. Fill in the TODOs, then
            // swift test --filter \(target)Tests

            """
        switch request.kind {
        case .runtime:
            return header + """
                private let conformance = RuntimeConformance(
                    make: { \(target)(configuration: \(target)Configuration()) },
                    // TODO: a worker that runs the WAHA simulator (`whago waha-sim`) listening on 127.0.0.1:port.
                    spec: { name, port, labels, environment in
                        WorkerSpec(name: name, image: "TODO: an image running whago waha-sim", environment: environment, labels: labels,
                                   hostPort: port, containerPort: port)
                    },
                    // TODO: kill the worker the way a crash or an operator would.
                    killFromOutside: { _ in throw WhagoError.notImplemented(driver: "\(request.driverName)", "killing a worker from outside (test set-up)") }
                )

                @Suite("The \(request.driverName) runtime passes the runtime conformance suite", .timeLimit(.minutes(10)))
                struct \(target)ConformanceTests {
                    @Test func lifecycle() async throws { try await conformance.lifecycle(port: try freePort()) }
                    @Test func idempotentLaunch() async throws { try await conformance.idempotentLaunch(port: try freePort()) }
                    @Test func adoption() async throws { try await conformance.adoption(port: try freePort()) }
                    @Test func killedFromOutside() async throws { try await conformance.killedFromOutside(port: try freePort()) }
                }

                """
        case .sessions:
            return header + """
                private let suite = SessionProviderConformance(
                    provider: \(target)(configuration: \(target)Configuration()),
                    // TODO: start a worker from the provider's workerTemplate (e.g. with the local or docker runtime).
                    launch: { throw WhagoError.notImplemented(driver: "\(request.driverName)", "launching a worker (test set-up)") },
                    // TODO: pair a session as a phone scanning its QR code would.
                    pair: { _ in throw WhagoError.notImplemented(driver: "\(request.driverName)", "pairing a session (test set-up)") }
                )

                @Suite("The \(request.driverName) session provider passes the session provider conformance suite", .timeLimit(.minutes(10)))
                struct \(target)ConformanceTests {
                    @Test(arguments: SessionProviderConformance.Check.allCases)
                    func conformance(_ check: SessionProviderConformance.Check) async throws { try await suite.run(check) }
                }

                """
        case .proxy:
            return header + """
                private let suite = ProxyProviderConformance(
                    // TODO: the provider in front of a real proxy on 127.0.0.1 (e.g. microsocks), with probeURL as its probe.
                    make: { _ in
                        ProxyProviderConformance.Subject(provider: \(target)(configuration: \(target)Configuration()),
                                                         capacity: nil, exclusive: true, checks: true,
                                                         // TODO: the login endpoint(for:) gives with the first lease.
                                                         credentials: .init(username: "TODO", password: "TODO"))
                    },
                    store: { (InMemoryStore(), {}) }
                )

                @Suite("The \(request.driverName) proxy provider passes the proxy provider conformance suite", .timeLimit(.minutes(10)))
                struct \(target)ConformanceTests {
                    @Test(arguments: ProxyProviderConformance.Check.allCases)
                    func conformance(_ check: ProxyProviderConformance.Check) async throws { try await suite.run(check) }
                }

                """
        case .store:
            return header + """
                private let suite = StoreConformance {
                    // TODO: a store on fresh, empty storage; `reopen` closes it and opens the same storage again.
                    StoreConformance.Subject(store: \(target)(configuration: \(target)Configuration()), reopen: {
                        throw WhagoError.notImplemented(driver: "\(request.driverName)", "reopening the same storage (test set-up)")
                    })
                }

                @Suite("The \(request.driverName) store passes the store conformance suite", .timeLimit(.minutes(10)))
                struct \(target)ConformanceTests {
                    @Test(arguments: StoreConformance.Check.allCases)
                    func conformance(_ check: StoreConformance.Check) async throws { try await suite.run(check) }
                }

                """
        }
    }
}
