import ArgumentParser
import Foundation
import Logging
import WhagoCore
import YAMLConfig

/// `whago doctor`: one line per driver, ok / warning / error, with the reason and the fix.
struct Doctor: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check that every selected driver can work, and say how to fix what cannot.",
        discussion: """
            Reads only: it creates, locks and migrates nothing, so it is safe beside a running whago             (whose store, listen address and workers' ports it reports as in use by it). Exits non-zero             when any check reports an error.
            """
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
        let data = Self.dataDirectoryReport(config.server.dataDir)
        print(Self.line(label: "data", name: "server.dataDir", report: data))
        var logger = Logger(label: "whago.doctor")
        logger.logLevel = .critical
        let (sealer, keyReport) = Self.masterKey(config)
        print(Self.line(label: "key", name: "server.masterKey", report: keyReport))
        let context = DriverContext(instance: InstanceID("doctor"), dataDirectory: config.server.dataDir, logger: logger, sealer: sealer)
        let drivers = await DriverSet.build(config, context: context, inspecting: true)
        for check in drivers.checks.sorted(by: { Self.order($0.kind) < Self.order($1.kind) }) {
            print(Self.line(check))
        }
        let webhooks: HealthReport = drivers.runtime?.webhookReachability(publicURL: config.server.publicURL, listen: config.server.listen)
            .map { .warning($0) } ?? .ok("workers reach \(config.server.publicURL.absoluteString)")
        print(Self.line(label: "webhooks", name: "server.publicURL", report: webhooks))
        let owners = PortOwners()
        let listen = Self.listenReport(config.server.listen, owners: owners)
        print(Self.line(label: "listen", name: "server.listen", report: listen))
        var worst = [drivers.worst, keyReport.status, listen.status].max() ?? .ok
        if let runtime = drivers.runtime, let ports = Self.portsReport(runtime, owners: owners) {
            print(Self.line(label: "ports", name: runtime.workerPorts.setting, report: ports))
            worst = max(worst, ports.status)
        }
        await drivers.shutdown()
        if worst == .error { throw ExitCode(1) }
    }

    /// Whether whago can listen on `server.listen`; a running whago there is information.
    static func listenReport(_ address: HostPort, owners: PortOwners) -> HealthReport {
        guard let problem = ListenCheck.problem(address) else { return .ok("\(address) is free") }
        let holders = owners.owners(of: address.port)
        if let whago = holders.first(where: \.isWhago) {
            return .ok("\(address) is in use by the running whago" + (whago.pid.map { " (pid \($0))" } ?? ""))
        }
        let who = holders.isEmpty ? "" : " (by \(holders.map(\.description).sorted().joined(separator: ", ")))"
        return .error(problem + who, fix: "stop what listens there, or choose another server.listen")
    }

    /// The workers' ports on this machine (when the runtime places them here) that something other
    /// than whago's workers listens on: a worker given one could not start.
    static func portsReport(_ runtime: any ContainerRuntime, owners: PortOwners) -> HealthReport? {
        let ports = runtime.workerPorts
        guard !runtime.placesWorkersOnSeveralHosts, isLoopbackHost(ports.host) || ["0.0.0.0", "::", ""].contains(ports.host) else { return nil }
        var workers = 0
        var others: [Int: [PortOwners.Owner]] = [:]
        for port in ports.range.lowerBound...ports.range.upperBound {
            let holders = owners.owners(of: port)
            if holders.isEmpty { continue }
            if holders.allSatisfy({ $0.isWorker || $0.isWhago }) { workers += 1 } else { others[port] = holders }
        }
        let free = ports.range.count - workers - others.count
        let inUse = workers == 0 ? "" : "\(workers) in use by whago's workers, "
        guard !others.isEmpty else { return .ok("\(ports.range): \(inUse)\(free) free") }
        let taken = others.keys.sorted()
        let listed = taken.prefix(5).map { port in "\(port) (\(others[port]!.map(\.description).joined(separator: ", ")))" }.joined(separator: ", ")
            + (taken.count > 5 ? " and \(taken.count - 5) more" : "")
        return .warning("\(ports.range): \(taken.count) port\(taken.count == 1 ? "" : "s") in use by other programs: \(listed); \(inUse)\(free) free. "
                        + "A worker given one of them could not start",
                        fix: "stop those programs, or set \(ports.setting) to a range nothing else uses")
    }

    /// Which master key seals the store's secrets; doctor never generates one.
    static func masterKey(_ config: WhagoConfig) -> (SecretSealer?, HealthReport) {
        if let key = config.server.masterKey {
            let sealer = SecretSealer(masterKey: key)
            return (sealer, .ok("from the configuration (key id \(sealer.keyID))"))
        }
        let path = "\(config.server.dataDir)/master-key"
        guard FileManager.default.fileExists(atPath: path) else {
            return (nil, .ok("none yet: serve generates one into \(path)"))
        }
        do {
            let sealer = SecretSealer(masterKey: try Secret.load(fromFile: path))
            return (sealer, .ok("\(path) (key id \(sealer.keyID))"))
        } catch {
            return (nil, .error("cannot read \(path): \(error)", fix: "restore the master key from a backup, or set server.masterKey"))
        }
    }

    /// Whether the data directory keeps its secrets to whago's user.
    static func dataDirectoryReport(_ path: String) -> HealthReport {
        let shared = DataDirectory.sharedEntries(in: path)
        guard !shared.isEmpty else {
            return .ok(FileManager.default.fileExists(atPath: path) ? "\(path) is private to its owner" : "\(path) will be created, mode 0700")
        }
        let shown = shared.prefix(3).joined(separator: ", ") + (shared.count > 3 ? " and \(shared.count - 3) more" : "")
        return .warning("other users may read or enter \(shown) (it holds the admin token, the store and workers' keys)",
                        fix: "chmod -R go-rwx \(path)")
    }

    static func order(_ kind: DriverKind) -> Int { DriverKind.allCases.firstIndex(of: kind) ?? 0 }

    /// `runtime   ok       local: workers run …` with ` — fix: …` for warnings and errors.
    static func line(_ check: DriverSet.Check) -> String {
        line(label: check.kind.rawValue, name: check.name, report: check.report)
    }

    static func line(label: String, name: String, report: HealthReport) -> String {
        let label = label.padding(toLength: 9, withPad: " ", startingAt: 0)
        let status = report.status.rawValue.padding(toLength: 8, withPad: " ", startingAt: 0)
        let fix = report.fix.map { " — fix: \($0)" } ?? ""
        return "\(label) \(status) \(name): \(report.detail)\(fix)"
    }
}
