import ArgumentParser
import Foundation
import WhagoCore
import YAMLConfig

/// `whago check-config PATH...`.
struct CheckConfig: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config",
        abstract: "Validate configuration files without starting anything.",
        discussion: """
            Prints one line per valid file with the drivers it selects and exits 0; otherwise prints \
            every error as file:line:column: message on standard error and exits 1. ${VAR} references \
            are resolved from the environment and file: secrets are read, as `whago serve` would. \
            With --placeholders (for a CI that has no secrets), an unset ${VAR} and a missing file: \
            secret are accepted as placeholders and listed; every other check stays strict.
            """
    )

    @Flag(help: "Accept unset ${VAR}s and missing file: secrets as placeholders (listed); check everything else.")
    var placeholders = false

    @Argument(help: ArgumentHelp("The YAML files to check.", valueName: "path"))
    var paths: [String]

    func run() async throws {
        var failed = false
        for path in paths {
            var loader = ConfigLoader()
            let found = placeholders ? Placeholders() : nil
            loader.placeholders = found
            do {
                let config = try loader.load(path: path)
                let entries = found?.entries ?? []
                print("\(path): ok\(entries.isEmpty ? "" : " with \(entries.count) placeholder\(entries.count == 1 ? "" : "s")") (\(config.driverLine))")
                for entry in entries { print("  placeholder: \(entry)") }
                if let warning = await WebhookReachability.warning(for: config) {
                    print("\(path): warning: \(warning)")
                }
            } catch {
                failed = true
                FileHandle.standardError.write(Data((error.description + "\n").utf8))
            }
        }
        if failed { throw ExitCode(1) }
    }
}
