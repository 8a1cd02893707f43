import Foundation
import PackagePlugin

/// `swift package check-config [--placeholders] [PATH...]`: validates YAML configurations with the
/// `whago` built from this package (every file under `Config/` when no path is given), as
/// `whago check-config` does. `--placeholders` (for a CI without secrets) accepts unset `${VAR}`s
/// and missing `file:` secrets as placeholders and lists them; everything else stays strict.
@main
struct CheckConfigCommand: CommandPlugin {
    func performCommand(context: PluginContext, arguments: [String]) async throws {
        let tool = try context.tool(named: "whago")
        let flags = arguments.filter { $0.hasPrefix("--") }
        if let unknown = flags.first(where: { $0 != "--placeholders" }) {
            Diagnostics.error("unknown option \(unknown) (usage: swift package check-config [--placeholders] [PATH...])")
            return
        }
        var paths = arguments.filter { !$0.hasPrefix("--") }
        if paths.isEmpty {
            let config = context.package.directoryURL.appendingPathComponent("Config")
            paths = try FileManager.default.contentsOfDirectory(atPath: config.path)
                .filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }
                .sorted()
                .map { config.appendingPathComponent($0).path }
        }
        let process = Process()
        process.executableURL = tool.url
        process.arguments = ["check-config"] + flags + paths
        try process.run()
        process.waitUntilExit()
        if process.terminationStatus != 0 {
            Diagnostics.error("whago check-config found errors (see above)")
        }
    }
}
