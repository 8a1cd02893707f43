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
            are resolved from the environment and file: secrets are read, as `whago serve` would.
            """
    )

    @Argument(help: ArgumentHelp("The YAML files to check.", valueName: "path"))
    var paths: [String]

    func run() async throws {
        let loader = ConfigLoader()
        var failed = false
        for path in paths {
            do {
                let config = try loader.load(path: path)
                print("\(path): ok (\(config.driverLine))")
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
