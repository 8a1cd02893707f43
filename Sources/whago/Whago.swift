import ArgumentParser
import WhagoCore

/// The `whago` command: the daemon and its tools.
@main
struct Whago: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "whago",
        abstract: "Runs WhatsApp numbers (chips) for the tenants of a SaaS on WAHA workers, with sticky proxies.",
        discussion: """
            whago keeps one WAHA worker per group of chips running, one WAHA session per chip, one sticky \
            proxy in front of each session, and its whole state in a store. Drivers for each of these are \
            chosen in a YAML file; with no --config, the embedded default runs everything locally.
            """,
        version: WhagoVersion.current,
        subcommands: [Serve.self, CheckConfig.self, Doctor.self, DriversCommand.self, WahaSim.self, Probe.self, VersionCommand.self],
        defaultSubcommand: nil
    )
}

/// `--config` and `--set`, shared by the commands that load one configuration.
struct ConfigOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The YAML configuration file (default: the embedded one; see Config/whago.yaml).", valueName: "path"))
    var config: String?

    @Option(name: .customLong("set"), parsing: .singleValue,
            help: ArgumentHelp("Override one value after parsing, e.g. --set server.listen=127.0.0.1:18080 (repeatable).",
                               valueName: "key.path=value"))
    var overrides: [String] = []

    func validate() throws {
        for override in overrides where !override.contains("=") || override.hasPrefix("=") {
            throw ValidationError("--set '\(override)' must be KEY.PATH=VALUE, e.g. --set server.listen=127.0.0.1:18080")
        }
    }
}

/// `--log-level`.
struct LogOptions: ParsableArguments {
    @Option(name: .long, help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel: String = "info"
}
