import Foundation
import Testing

/// The module map's arrows (README, architecture.md) as the build declares them: drivers depend on
/// the core and on driver support targets, never on another driver; the core and the support
/// targets depend on no driver.
@Suite struct PackageShapeTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// Each target's name and the quoted names in its dependency list, read from Package.swift.
    static func targets() throws -> [(name: String, dependencies: Set<String>)] {
        let manifest = try String(contentsOf: root.appendingPathComponent("Package.swift"), encoding: .utf8)
        var targets: [(String, Set<String>)] = []
        for opening in ["driver(\"", ".target(\n            name: \"", ".target(name: \"", ".executableTarget(\n            name: \""] {
            var rest = manifest[...]
            while let start = rest.range(of: opening) {
                let body = Self.balanced(rest[start.lowerBound...])
                let name = String(rest[start.upperBound...].prefix { $0 != "\"" })
                let quoted = body.split(separator: "\"", omittingEmptySubsequences: false).enumerated().filter { $0.offset % 2 == 1 }.map { String($0.element) }
                targets.append((name, Set(quoted.dropFirst())))
                rest = rest[start.upperBound...]
            }
        }
        return targets
    }

    /// The text from an opening parenthesis to the one that closes it.
    static func balanced(_ text: Substring) -> Substring {
        var depth = 0
        for index in text.indices {
            if text[index] == "(" { depth += 1 }
            if text[index] == ")" { depth -= 1; if depth == 0 { return text[...index] } }
        }
        return text
    }

    static func drivers() throws -> Set<String> {
        Set(try FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent("Sources/Drivers").path))
    }

    @Test func noDriverDependsOnAnotherDriver() throws {
        let drivers = try Self.drivers()
        #expect(drivers.isSuperset(of: ["DockerRuntime", "SwarmRuntime", "PostgresStore", "FileStore", "DataImpulseProxy"]))
        let targets = try Self.targets()
        for driver in drivers {
            let declared = try #require(targets.first { $0.name == driver }, "\(driver) is declared in Package.swift")
            #expect(declared.dependencies.isDisjoint(with: drivers.subtracting([driver])), "\(driver) depends on \(declared.dependencies.intersection(drivers))")
        }
        for shared in ["WhagoCore", "Orchestrator", "WhagoServer", "WhagoDaemon", "WAHASimulator", "DockerEngine", "PostgresSupport", "ProxyProbe", "CurlHTTP"] {
            let declared = try #require(targets.first { $0.name == shared }, "\(shared) is declared in Package.swift")
            #expect(declared.dependencies.isDisjoint(with: drivers), "\(shared) depends on the drivers \(declared.dependencies.intersection(drivers))")
        }
    }

    /// The orchestrator knows the four protocols, not how anything is reached: no HTTP client or
    /// server, no driver, no support target.
    @Test func theOrchestratorDependsOnTheCoreOnly() throws {
        let orchestrator = try #require(try Self.targets().first { $0.name == "Orchestrator" })
        let targets = Set(try Self.targets().map(\.name))
        #expect(orchestrator.dependencies.intersection(targets) == ["WhagoCore"], "\(orchestrator.dependencies.intersection(targets))")
        #expect(!orchestrator.dependencies.contains("Hummingbird") && !orchestrator.dependencies.contains("hummingbird"))
    }

    @Test func noDriverSourceImportsAnotherDriver() throws {
        let drivers = try Self.drivers()
        for driver in drivers {
            let folder = Self.root.appendingPathComponent("Sources/Drivers/\(driver)")
            for file in try FileManager.default.contentsOfDirectory(atPath: folder.path) where file.hasSuffix(".swift") {
                let text = try String(contentsOf: folder.appendingPathComponent(file), encoding: .utf8)
                let imported = text.split(separator: "\n").compactMap { line -> String? in
                    let words = line.split(separator: " ")
                    guard let at = words.firstIndex(of: "import"), at + 1 < words.count else { return nil }
                    return String(words[at + 1])
                }
                #expect(Set(imported).isDisjoint(with: drivers.subtracting([driver])), "\(driver)/\(file) imports another driver")
            }
        }
    }
}
