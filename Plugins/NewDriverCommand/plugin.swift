import Foundation
import PackagePlugin

/// `swift package --allow-writing-to-package-directory new-driver --kind runtime|sessions|proxy|store --name <Name>`:
/// the skeleton of a new driver, wired in.
///
/// It creates `Sources/Drivers/<Target>/<Target>.swift` (every requirement of the kind's protocol,
/// read from `Sources/WhagoCore/Drivers/`, throwing `not_implemented` naming the driver and the
/// method; a configuration type with defaults and its sample YAML section) and
/// `Tests/<Target>Tests/` (the kind's conformance suite, failing until the driver works), then
/// adds the target, the test target and the `whago` dependency to Package.swift (at its
/// `new-driver:` marker lines) and the registration line to `DriverRegistry+CompiledIn.swift`.
@main
struct NewDriverCommand: CommandPlugin {
    func performCommand(context: PluginContext, arguments: [String]) async throws {
        do {
            let request = try Request(arguments)
            let root = context.package.directoryURL
            let generator = try Generator(request: request, root: root)
            try generator.run()
            print(generator.nextSteps)
        } catch let failure as Failure {
            Diagnostics.error(failure.message)
            throw failure
        }
    }
}

struct Failure: Error, CustomStringConvertible {
    let message: String
    init(_ message: String) { self.message = message }
    var description: String { message }
}

/// What was asked for.
struct Request {
    enum Kind: String, CaseIterable {
        case runtime, sessions, proxy, store

        /// The protocol, the file that declares it, the target-name suffix, the registry list.
        var protocolName: String {
            switch self {
            case .runtime: "ContainerRuntime"
            case .sessions: "SessionProvider"
            case .proxy: "ProxyProvider"
            case .store: "Store"
            }
        }
        var suffix: String {
            switch self {
            case .runtime: "Runtime"
            case .sessions: "Provider"
            case .proxy: "Proxy"
            case .store: "Store"
            }
        }
        var registryList: String {
            switch self {
            case .runtime: "runtimes"
            case .sessions: "sessions"
            case .proxy: "proxies"
            case .store: "stores"
            }
        }
    }

    static let usage = "usage: swift package --allow-writing-to-package-directory new-driver --kind runtime|sessions|proxy|store --name <Name>"

    let kind: Kind
    /// The Swift name of the target and of the driver's type, e.g. `NomadRuntime`.
    let target: String
    /// The name `driver:` selects in YAML, e.g. `nomad`.
    let driverName: String

    init(_ arguments: [String]) throws {
        var kind: String?
        var name: String?
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            let value = index + 1 < arguments.count ? arguments[index + 1] : nil
            switch argument {
            case "--kind": kind = value; index += 2
            case "--name": name = value; index += 2
            case "--help", "-h": throw Failure(Self.usage)
            default: throw Failure("unknown argument '\(argument)'\n\(Self.usage)")
            }
        }
        guard let kindText = kind, let parsed = Kind(rawValue: kindText) else {
            throw Failure("--kind must be one of runtime, sessions, proxy, store\(kind.map { " (got '\($0)')" } ?? "")\n\(Self.usage)")
        }
        guard let name, !name.isEmpty else { throw Failure("--name is required, e.g. --name Nomad\n\(Self.usage)") }
        let isLetter: (Unicode.Scalar) -> Bool = { ("a"..."z").contains($0) || ("A"..."Z").contains($0) }
        guard let first = name.unicodeScalars.first, isLetter(first),
              name.unicodeScalars.allSatisfy({ isLetter($0) || ("0"..."9").contains($0) }) else {
            throw Failure("'\(name)' is not a valid name: use ASCII letters and digits, starting with a letter (a Swift identifier such as Nomad or AcmeCloud)")
        }
        let base = name.prefix(1).uppercased() + name.dropFirst()
        self.kind = parsed
        target = base.hasSuffix(parsed.suffix) && base != parsed.suffix ? base : base + parsed.suffix
        let stem = base.hasSuffix(parsed.suffix) && base != parsed.suffix ? String(base.dropLast(parsed.suffix.count)) : base
        // AcmeCloud → acme-cloud
        var words = ""
        for (offset, character) in stem.enumerated() {
            if character.isUppercase, offset > 0 { words += "-" }
            words += character.lowercased()
        }
        driverName = words
    }
}

/// Writes the files and edits the package.
struct Generator {
    let request: Request
    let root: URL
    let fileManager = FileManager.default

    var sourceDirectory: URL { root.appendingPathComponent("Sources/Drivers/\(request.target)") }
    var testDirectory: URL { root.appendingPathComponent("Tests/\(request.target)Tests") }
    var manifest: URL { root.appendingPathComponent("Package.swift") }
    var registry: URL { root.appendingPathComponent("Sources/whago/Support/DriverRegistry+CompiledIn.swift") }

    static let targetMarker = "// new-driver: driver targets above this line"
    static let testMarker = "// new-driver: test targets above this line"
    static let dependencyMarker = "// new-driver: whago's driver dependencies above this line"

    init(request: Request, root: URL) throws {
        self.request = request
        self.root = root
        for existing in [sourceDirectory, testDirectory] where fileManager.fileExists(atPath: existing.path) {
            throw Failure("\(existing.path) already exists: a driver named \(request.target) is there; pick another name")
        }
        let drivers = root.appendingPathComponent("Sources/Drivers")
        for directory in (try? fileManager.contentsOfDirectory(atPath: drivers.path)) ?? [] {
            if directory.lowercased() == request.target.lowercased() {
                throw Failure("Sources/Drivers/\(directory) already exists: a driver named \(request.target) is there; pick another name")
            }
            let folder = drivers.appendingPathComponent(directory)
            for file in (try? fileManager.contentsOfDirectory(atPath: folder.path)) ?? [] where file.hasSuffix(".swift") {
                let text = (try? String(contentsOf: folder.appendingPathComponent(file), encoding: .utf8)) ?? ""
                if text.contains("kind: .\(request.kind.rawValue), name: \"\(request.driverName)\"") {
                    throw Failure("a \(request.kind.rawValue) driver named '\(request.driverName)' is already registered (Sources/Drivers/\(directory)); pick another name")
                }
            }
        }
        let manifestText = try String(contentsOf: manifest, encoding: .utf8)
        for marker in [Self.targetMarker, Self.testMarker, Self.dependencyMarker] where !manifestText.contains(marker) {
            throw Failure("Package.swift has no line '\(marker)': new-driver edits the manifest at its marker lines")
        }
        guard fileManager.fileExists(atPath: registry.path) else { throw Failure("\(registry.path) is missing") }
    }

    func run() throws {
        let requirements = try Requirements.read(protocol: request.kind.protocolName,
                                                 from: root.appendingPathComponent("Sources/WhagoCore/Drivers/\(request.kind.protocolName).swift"))
        try fileManager.createDirectory(at: sourceDirectory, withIntermediateDirectories: true)
        try fileManager.createDirectory(at: testDirectory, withIntermediateDirectories: true)
        try Templates.source(request, requirements: requirements)
            .write(to: sourceDirectory.appendingPathComponent("\(request.target).swift"), atomically: true, encoding: .utf8)
        try Templates.test(request)
            .write(to: testDirectory.appendingPathComponent("\(request.target)ConformanceTests.swift"), atomically: true, encoding: .utf8)
        try editManifest()
        try editRegistry()
    }

    private func editManifest() throws {
        var text = try String(contentsOf: manifest, encoding: .utf8)
        text = try insert(before: Self.targetMarker, in: text, line: "driver(\"\(request.target)\"),")
        text = try insert(before: Self.testMarker, in: text, line: """
            .testTarget(
                name: "\(request.target)Tests",
                dependencies: ["\(request.target)", "WhagoCore", "WhagoTesting"],
                swiftSettings: swiftSettings
            ),
            """)
        text = try insert(before: Self.dependencyMarker, in: text, line: "\"\(request.target)\",")
        try text.write(to: manifest, atomically: true, encoding: .utf8)
    }

    /// Inserts `line` (possibly several lines) above the marker, at the marker's indentation.
    private func insert(before marker: String, in text: String, line: String) throws -> String {
        var lines = text.components(separatedBy: "\n")
        guard let index = lines.firstIndex(where: { $0.contains(marker) }) else { throw Failure("no marker '\(marker)' in Package.swift") }
        let indentation = String(lines[index].prefix { $0 == " " })
        lines.insert(contentsOf: line.components(separatedBy: "\n").map { indentation + $0 }, at: index)
        return lines.joined(separator: "\n")
    }

    private func editRegistry() throws {
        var lines = try String(contentsOf: registry, encoding: .utf8).components(separatedBy: "\n")
        guard let lastImport = lines.lastIndex(where: { $0.hasPrefix("import ") }) else { throw Failure("no imports in \(registry.lastPathComponent)") }
        lines.insert("import \(request.target)", at: lastImport + 1)
        let importLines = lines.indices.filter { lines[$0].hasPrefix("import ") }
        let sorted = importLines.map { lines[$0] }.sorted()
        for (index, line) in zip(importLines, sorted) { lines[index] = line }
        guard let listLine = lines.firstIndex(where: { $0.trimmingCharacters(in: .whitespaces).hasPrefix("\(request.kind.registryList): [") }),
              let close = lines[listLine].lastIndex(of: "]") else {
            throw Failure("no '\(request.kind.registryList): [...]' line in \(registry.lastPathComponent)")
        }
        let list = lines[listLine]
        let separator = list[list.index(after: list.firstIndex(of: "[")!)..<close].trimmingCharacters(in: .whitespaces).isEmpty ? "" : ", "
        lines[listLine] = String(list[..<close]) + separator + "\(request.target).driver" + String(list[close...])
        try lines.joined(separator: "\n").write(to: registry, atomically: true, encoding: .utf8)
    }

    var nextSteps: String {
        let kind = request.kind
        return """
            Created the \(kind.rawValue) driver '\(request.driverName)':
              Sources/Drivers/\(request.target)/\(request.target).swift   the driver: every \(kind.protocolName) requirement throws not_implemented
              Tests/\(request.target)Tests/\(request.target)ConformanceTests.swift   the \(kind.rawValue) conformance suite (fails until the driver works)
            and wired it in: Package.swift (target, test target, whago's dependency) and
            Sources/whago/Support/DriverRegistry+CompiledIn.swift (\(request.target).driver).

            Next:
              1. swift build                        # it builds as it is
              2. Implement \(request.target), reading the contract in Sources/WhagoCore/Drivers/\(kind.protocolName).swift.
              3. Fill in the conformance test's set-up (search for TODO), then:
                 swift test --filter \(request.target)Tests
              4. Select it in a configuration:  \(kind.rawValue): { driver: \(request.driverName) }
                 and check it:  whago check-config your.yaml   (whago drivers shows its sample section)
            """
    }
}

/// The requirements of a driver protocol, as written in its declaration.
struct Requirements {
    struct Requirement {
        /// The declaration, on one line, without `public`.
        var declaration: String
        var isFunction: Bool
        var name: String
        var throwing: Bool
        /// The type after `->` (functions) or `:` (properties).
        var resultType: String?
    }

    var items: [Requirement]

    static func read(protocol name: String, from file: URL) throws -> Requirements {
        let text = try String(contentsOf: file, encoding: .utf8)
        var lines = text.components(separatedBy: "\n")
        guard let start = lines.firstIndex(where: { $0.hasPrefix("public protocol \(name)") }) else {
            throw Failure("\(file.lastPathComponent) does not declare 'public protocol \(name)'")
        }
        lines = Array(lines[(start + 1)...])
        var items: [Requirement] = []
        var pending = ""
        for raw in lines {
            if raw.hasPrefix("}") { break }
            let line = raw.trimmingCharacters(in: .whitespaces)
            if pending.isEmpty {
                guard line.hasPrefix("func ") || line.hasPrefix("var ") else { continue }
                pending = line
            } else {
                pending += " " + line
            }
            // A declaration may span lines until its parentheses close.
            let open = pending.filter { $0 == "(" }.count
            let close = pending.filter { $0 == ")" }.count
            guard open == close else { continue }
            items.append(requirement(pending))
            pending = ""
        }
        return Requirements(items: items)
    }

    static func requirement(_ declaration: String) -> Requirement {
        let isFunction = declaration.hasPrefix("func ")
        let afterKeyword = declaration.dropFirst(isFunction ? 5 : 4)
        let name = String(afterKeyword.prefix { $0.isLetter || $0.isNumber || $0 == "_" })
        if isFunction {
            let signatureEnd = declaration.range(of: ")", options: .backwards)?.upperBound ?? declaration.endIndex
            let effects = declaration[signatureEnd...]
            let result = effects.range(of: "->").map { String(effects[$0.upperBound...]).trimmingCharacters(in: .whitespaces) }
            return Requirement(declaration: declaration, isFunction: true, name: name, throwing: effects.contains("throws"), resultType: result)
        }
        let type = declaration.split(separator: ":", maxSplits: 1).dropFirst().first
            .map { $0.replacingOccurrences(of: "{ get }", with: "").trimmingCharacters(in: .whitespaces) }
        return Requirement(declaration: declaration, isFunction: false, name: name, throwing: false, resultType: type)
    }
}
