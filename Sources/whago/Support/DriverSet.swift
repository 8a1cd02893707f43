import Logging
import WhagoCore

/// The four selected drivers, built and health-checked.
struct DriverSet {
    /// One driver's outcome: built (or not) and what its health check said.
    struct Check {
        var kind: DriverKind
        var name: String
        var report: HealthReport
        var driver: (any WhagoDriver)?
    }

    var runtime: (any ContainerRuntime)?
    var sessions: (any SessionProvider)?
    var proxy: (any ProxyProvider)?
    var store: (any Store)?
    var checks: [Check] = []

    /// The worst status among the checks.
    var worst: HealthReport.Status { checks.map(\.report.status).max() ?? .ok }

    /// Every built driver, store last so that it is shut down after what uses it.
    var built: [any WhagoDriver] { checks.compactMap(\.driver) }

    /// Builds every selected driver (store first: it fails fast when another daemon holds it) and
    /// runs its health check, each bounded by `timeout`.
    /// - Parameter inspecting: for `whago doctor`: a driver with a read-only inspection (a store) is
    ///   inspected, not built, so that nothing is created, locked or migrated.
    static func build(_ config: WhagoConfig, context: DriverContext, timeout: Duration = .seconds(10), inspecting: Bool = false) async -> DriverSet {
        var set = DriverSet()
        set.store = await set.add(.store, config.store, context, timeout, inspecting: inspecting)
        set.proxy = await set.add(.proxy, config.proxy, context, timeout, inspecting: inspecting)
        set.sessions = await set.add(.sessions, config.sessions, context, timeout, inspecting: inspecting)
        set.runtime = await set.add(.runtime, config.runtime, context, timeout, inspecting: inspecting)
        return set
    }

    private mutating func add<Instance: Sendable>(
        _ kind: DriverKind, _ selection: DriverSelection<Instance>, _ context: DriverContext, _ timeout: Duration, inspecting: Bool
    ) async -> Instance? {
        let name = selection.driver.name
        if inspecting, let report = await selection.inspect(context) {
            checks.append(Check(kind: kind, name: name, report: report, driver: nil))
            return nil
        }
        let instance: Instance
        do {
            instance = try await selection.make(context)
        } catch let error as WhagoError {
            checks.append(Check(kind: kind, name: name, report: Self.report(for: error, kind: kind), driver: nil))
            return nil
        } catch {
            checks.append(Check(kind: kind, name: name, report: .error("\(error)"), driver: nil))
            return nil
        }
        guard let driver = instance as? any WhagoDriver else { return instance }
        let report = await Self.healthCheck(driver, timeout: timeout)
        checks.append(Check(kind: kind, name: name, report: report, driver: driver))
        return instance
    }

    private static func report(for error: WhagoError, kind: DriverKind) -> HealthReport {
        switch error.code {
        case .notImplemented:
            return .error(error.message, fix: "choose another \(kind) driver (`whago drivers` lists them)")
        case .locked:
            return .error(error.message, fix: "stop the other whago, or point this one at another directory")
        default:
            return .error(error.message)
        }
    }

    private static func healthCheck(_ driver: any WhagoDriver, timeout: Duration) async -> HealthReport {
        await withTaskGroup(of: HealthReport?.self) { group in
            group.addTask { await driver.healthCheck() }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first ?? .error("the health check did not finish within \(timeout)")
        }
    }

    /// Shuts every built driver down, in reverse order of building.
    func shutdown() async {
        for driver in built.reversed() { await driver.shutdown() }
    }
}
