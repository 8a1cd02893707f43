import ArgumentParser
import Foundation
import Logging
import WhagoCore
import YAMLConfig

/// `whago doctor`: one line per driver, ok / warning / error, with the reason and the fix.
struct Doctor: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check that every selected driver can work, and say how to fix what cannot.",
        discussion: "Exits non-zero when any driver reports an error."
    )

    @OptionGroup var configOptions: ConfigOptions

    func run() async throws {
        let config: WhagoConfig
        do {
            config = try ConfigLoader().load(path: configOptions.config, overrides: configOptions.overrides)
        } catch {
            print("config    error    \(error.errors.count) error(s) in the configuration")
            FileHandle.standardError.write(Data((error.description + "\n").utf8))
            throw ExitCode(1)
        }
        print("config    ok       \(configOptions.config ?? ConfigLoader.embeddedSource): \(config.driverLine)")
        var logger = Logger(label: "whago.doctor")
        logger.logLevel = .critical
        let context = DriverContext(instance: InstanceID("doctor"), dataDirectory: config.server.dataDir, logger: logger)
        let drivers = await DriverSet.build(config, context: context)
        for check in drivers.checks.sorted(by: { Self.order($0.kind) < Self.order($1.kind) }) {
            print(Self.line(check))
        }
        await drivers.shutdown()
        if drivers.worst == .error { throw ExitCode(1) }
    }

    static func order(_ kind: DriverKind) -> Int { DriverKind.allCases.firstIndex(of: kind) ?? 0 }

    /// `runtime   ok       local: workers run …` with ` — fix: …` for warnings and errors.
    static func line(_ check: DriverSet.Check) -> String {
        let kind = check.kind.rawValue.padding(toLength: 9, withPad: " ", startingAt: 0)
        let status = check.report.status.rawValue.padding(toLength: 8, withPad: " ", startingAt: 0)
        let fix = check.report.fix.map { " — fix: \($0)" } ?? ""
        return "\(kind) \(status) \(check.name): \(check.report.detail)\(fix)"
    }
}
