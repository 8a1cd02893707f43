import Foundation
import PackagePlugin

/// `swift package check-config [PATH...]`: validates YAML configurations with the `whago` built from
/// this package (every file under `Config/` when no path is given), as `whago check-config` does.
@main
struct CheckConfigCommand: CommandPlugin {
    func performCommand(context: PluginContext, arguments: [String]) async throws {
        let tool = try context.tool(named: "whago")
        var paths = arguments
        if paths.isEmpty {
            let config = context.package.directoryURL.appendingPathComponent("Config")
            paths = try FileManager.default.contentsOfDirectory(atPath: config.path)
                .filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }
                .sorted()
                .map { config.appendingPathComponent($0).path }
        }
        let process = Process()
        process.executableURL = tool.url
        process.arguments = ["check-config"] + paths
        try process.run()
        process.waitUntilExit()
        if process.terminationStatus != 0 {
            Diagnostics.error("whago check-config found errors (see above)")
        }
    }
}
