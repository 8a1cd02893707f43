import ArgumentParser
import WhagoCore

/// `whago drivers`: every compiled-in driver per kind, with its sample YAML section.
struct DriversCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "drivers",
        abstract: "List the compiled-in drivers of each kind, with a sample of each one's YAML section."
    )

    func run() {
        print(Self.listing(DriverRegistry.compiledIn), terminator: "")
    }

    static func listing(_ registry: DriverRegistry) -> String {
        var text = ""
        for kind in DriverKind.allCases {
            text += "\(kind):    # select with \(kind).driver: <name>\n"
            for entry in registry.entries(of: kind) {
                let aliases = entry.aliases.isEmpty ? "" : " (also: \(entry.aliases.joined(separator: ", ")))"
                text += "  \(entry.name)\(aliases) — \(entry.summary)\n"
                text += "    \(kind):\n"
                text += "      driver: \(entry.name)\n"
                for line in entry.sampleConfig.split(separator: "\n", omittingEmptySubsequences: false) {
                    text += "      \(line)\n"
                }
            }
            text += "\n"
        }
        return text
    }
}
