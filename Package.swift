// swift-tools-version: 6.1
//
// whago — an orchestrator of WAHA workers, sessions and proxies for the chips of a SaaS's tenants.
// The core (`WhagoCore`) holds the four driver protocols; every driver is a target of its own
// under `Sources/Drivers/<Name>/`, registered in one explicit list in the `whago` executable.

import PackageDescription

/// Settings shared by every Swift target: Swift 6 language mode (strict concurrency is implied).
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

/// A driver target: `Sources/Drivers/<name>/`, depending on the core plus what it really needs.
func driver(_ name: String, dependencies: [Target.Dependency] = []) -> Target {
    .target(
        name: name,
        dependencies: ["WhagoCore", .product(name: "Logging", package: "swift-log")] + dependencies,
        path: "Sources/Drivers/\(name)",
        swiftSettings: swiftSettings
    )
}

let package = Package(
    name: "whago",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "whago", targets: ["whago"]),
        .library(name: "WhagoCore", targets: ["WhagoCore"]),
        .library(name: "YAMLConfig", targets: ["YAMLConfig"]),
        .library(name: "WhagoTesting", targets: ["WhagoTesting"]),
        .library(name: "Orchestrator", targets: ["Orchestrator"]),
        .library(name: "WhagoServer", targets: ["WhagoServer"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.6.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.5.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.80.0"),
        .package(url: "https://github.com/apple/swift-crypto", "3.12.0"..<"5.0.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.25.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.29.0"),
        .package(url: "https://github.com/apple/swift-openapi-generator", from: "1.14.0"),
        .package(url: "https://github.com/apple/swift-openapi-runtime", from: "1.13.0"),
        .package(url: "https://github.com/hummingbird-project/swift-openapi-hummingbird", from: "2.1.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.3.0"),
    ],
    targets: [
        // C at the edge: system libraries with a shim of typed wrappers.
        .systemLibrary(name: "CYAML", pkgConfig: "yaml-0.1", providers: [.apt(["libyaml-dev"])]),
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        .systemLibrary(name: "CQRencode", pkgConfig: "libqrencode", providers: [.apt(["libqrencode-dev"])]),
        .systemLibrary(name: "CPNG", pkgConfig: "libpng", providers: [.apt(["libpng-dev"])]),

        .target(
            name: "WhagoCore",
            dependencies: [
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(name: "YAMLConfig", dependencies: ["CYAML"], swiftSettings: swiftSettings),
        // Every outgoing HTTP call: libcurl's multi interface driven by one thread.
        .target(name: "CurlHTTP", dependencies: ["CCurl"], swiftSettings: swiftSettings),

        // Driver support: code shared by drivers of a kind, so that no driver depends on another.
        // A real request through a proxy to a probe URL, shared by the proxy drivers.
        .target(name: "ProxyProbe", dependencies: ["WhagoCore", "CurlHTTP"], path: "Sources/DriverSupport/ProxyProbe", swiftSettings: swiftSettings),
        // The Docker Engine API client, settings, labels and errors of the docker and swarm runtimes.
        .target(name: "DockerEngine", dependencies: ["WhagoCore", "CurlHTTP"], path: "Sources/DriverSupport/DockerEngine", swiftSettings: swiftSettings),
        // PostgreSQL URLs (libpq's sslmode), TLS and connections: the postgres store and the simulator's session database.
        .target(
            name: "PostgresSupport",
            dependencies: [
                "WhagoCore",
                .product(name: "PostgresNIO", package: "postgres-nio"), .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Sources/DriverSupport/PostgresSupport",
            swiftSettings: swiftSettings
        ),

        // A WAHA-compatible server for development and tests (`whago waha-sim`).
        .target(
            name: "WAHASimulator",
            dependencies: [
                // PostgresSupport: PostgreSQL URLs (libpq's sslmode) for WHATSAPP_SESSIONS_POSTGRESQL_URL.
                "WhagoCore", "CurlHTTP", "CQRencode", "CPNG", "PostgresSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),

        // The glue: chips placed on per-tenant workers, health, cleanup, reconciliation. Protocols only.
        .target(
            name: "Orchestrator",
            dependencies: [
                "WhagoCore",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),

        // The REST API (routes and types generated from openapi.yaml), the WAHA webhook receiver,
        // tenant webhook delivery, SSE, rate limits, send pacing, metrics.
        .target(
            name: "WhagoServer",
            dependencies: [
                "WhagoCore", "Orchestrator", "CurlHTTP", "YAMLConfig",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "OpenAPIRuntime", package: "swift-openapi-runtime"),
                .product(name: "OpenAPIHummingbird", package: "swift-openapi-hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            resources: [.embedInCode("openapi.yaml")] + [
                "index.html", "console.css", "app.js", "api.js", "dom.js", "events.js", "login.js", "chips.js", "chip.js",
                "create.js", "admin.js", "favicon.svg",
            ].map { .embedInCode("Console/\($0)") },
            swiftSettings: swiftSettings,
            plugins: [.plugin(name: "OpenAPIGenerator", package: "swift-openapi-generator")]
        ),

        // whago wired once: the orchestrator, its services and the HTTP server (serve, the rig, the benchmarks).
        .target(
            name: "WhagoDaemon",
            dependencies: [
                "WhagoCore", "Orchestrator", "WhagoServer",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),

        // Drivers: one target each, one public registration value each.
        driver("LocalProcessRuntime"),
        driver("DockerRuntime", dependencies: ["CurlHTTP", "DockerEngine"]),
        driver("SwarmRuntime", dependencies: ["CurlHTTP", "DockerEngine"]),
        driver("WAHAPlusProvider", dependencies: ["CurlHTTP", .product(name: "Crypto", package: "swift-crypto")]),
        driver("NoProxy"),
        driver("StaticProxy", dependencies: ["CurlHTTP", "ProxyProbe"]),
        driver("DataImpulseProxy", dependencies: ["CurlHTTP", "ProxyProbe"]),
        driver("FileStore"),
        driver("PostgresStore", dependencies: [
            "PostgresSupport", .product(name: "PostgresNIO", package: "postgres-nio"), .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),
        // new-driver: driver targets above this line

        .target(
            name: "WhagoTesting",
            dependencies: [
                "WhagoCore", "YAMLConfig", "CurlHTTP",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // A whole orchestrator on the local runtime and the simulator: tests, crash harness, benchmark.
        .target(
            name: "WhagoRig",
            dependencies: [
                "Orchestrator", "WhagoCore", "WhagoTesting", "LocalProcessRuntime", "DockerRuntime", "SwarmRuntime", "WAHAPlusProvider", "NoProxy",
                "DataImpulseProxy", "FileStore", "PostgresStore", "WhagoServer", "WhagoDaemon",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "whago",
            dependencies: [
                "WhagoCore", "YAMLConfig", "WAHASimulator", "CurlHTTP", "Orchestrator", "WhagoServer", "WhagoDaemon",
                "LocalProcessRuntime", "DockerRuntime", "SwarmRuntime", "WAHAPlusProvider",
                "NoProxy", "StaticProxy", "DataImpulseProxy", "FileStore", "PostgresStore",
                // new-driver: whago's driver dependencies above this line
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            resources: [.embedInCode("Resources/whago.yaml")],
            swiftSettings: swiftSettings
        ),

        // Benchmarks (scripts/bench/): figures printed, never asserted by tests.
        .executableTarget(
            name: "whago-bench",
            dependencies: [
                "CurlHTTP", "WhagoCore", "FileStore", "PostgresStore", "DockerRuntime", "SwarmRuntime", "LocalProcessRuntime", "WhagoTesting",
                "Orchestrator", "WhagoRig", "WhagoDaemon", "NoProxy",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),

        // `swift package check-config [PATH...]`: validate configurations (default: Config/*.yaml).
        .plugin(
            name: "CheckConfigCommand",
            capability: .command(intent: .custom(verb: "check-config", description: "Validate whago YAML configurations (default: Config/*.yaml).")),
            dependencies: ["whago"],
            path: "Plugins/CheckConfigCommand"
        ),
        // `swift package --allow-writing-to-package-directory new-driver --kind … --name …`: a new driver's skeleton, wired in.
        .plugin(
            name: "NewDriverCommand",
            capability: .command(
                intent: .custom(verb: "new-driver", description: "Create a driver target (runtime, sessions, proxy or store) with its conformance test, wired in."),
                permissions: [.writeToPackageDirectory(reason: "new-driver writes the driver's target and test target and adds them to Package.swift and the driver registry")]
            ),
            path: "Plugins/NewDriverCommand"
        ),

        .testTarget(
            name: "YAMLConfigTests",
            dependencies: ["YAMLConfig", "WhagoCore", "WhagoTesting"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "WhagoCoreTests",
            dependencies: ["WhagoCore", "YAMLConfig", "WhagoTesting", "CCurl"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "CurlHTTPTests",
            dependencies: [
                "CurlHTTP", "CCurl", "WhagoTesting",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "WAHASimulatorTests",
            dependencies: [
                "WAHASimulator", "CurlHTTP", "WhagoCore", "WhagoTesting",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "RuntimeTests",
            dependencies: ["WhagoCore", "WhagoTesting", "LocalProcessRuntime", "DockerRuntime", "SwarmRuntime", "DockerEngine", "CurlHTTP",
                           .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ProviderTests",
            dependencies: [
                "WhagoCore", "WhagoTesting", "WAHAPlusProvider", "DataImpulseProxy", "StaticProxy", "NoProxy",
                "LocalProcessRuntime", "FileStore", "CurlHTTP",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "StoreTests",
            dependencies: [
                "WhagoCore", "WhagoTesting", "FileStore", "PostgresStore", "PostgresSupport",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            // Read by path: a store directory written by an earlier whago (see its test).
            exclude: ["Fixtures"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "OrchestratorTests",
            dependencies: [
                "Orchestrator", "WhagoRig", "WhagoCore", "WhagoTesting", "LocalProcessRuntime", "DockerRuntime", "WAHAPlusProvider", "NoProxy",
                "FileStore", "PostgresStore", "CurlHTTP", "WhagoServer",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "WhagoServerTests",
            dependencies: ["WhagoServer", "WhagoCore", "WhagoTesting"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "WhagoCLITests",
            dependencies: ["whago", "WhagoCore", "YAMLConfig", "WhagoTesting", "CurlHTTP"],
            swiftSettings: swiftSettings
        ),
        // new-driver: test targets above this line
    ]
)
