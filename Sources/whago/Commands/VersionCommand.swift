import ArgumentParser
import WhagoCore

/// `whago version`.
struct VersionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "version", abstract: "Print whago's version.")

    func run() {
        print("whago \(WhagoVersion.current)")
    }
}
