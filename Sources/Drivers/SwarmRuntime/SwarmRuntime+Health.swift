import CurlHTTP
import DockerEngine
import Foundation
import Logging
import Synchronization
public import WhagoCore

extension SwarmRuntime {
    // MARK: Health

    public func healthCheck() async -> HealthReport {
        do {
            let info = try await ping()
            let workers = try await list(labels: instance.map { [WorkerLabel.instance: $0] } ?? [:]).count
            let nodes = try await nodes().count
            guard nodes > 0 else {
                return .error("no node of the swarm takes workers (none is ready, active and meeting runtime.swarm.constraints)",
                              fix: "check `docker node ls` and the nodes' labels against runtime.swarm.constraints")
            }
            let detail = "\(info.version) at \(client.endpoint), \(nodes) node\(nodes == 1 ? "" : "s") taking workers, \(workers) whago worker\(workers == 1 ? "" : "s"), "
                + "network \(configuration.network), ports \(configuration.ports) per node"
            var warnings: [(detail: String, fix: String)] = []
            if configuration.network == "host" {
                warnings.append(("with network host every worker (untrusted third-party code) can reach every service listening on its node's "
                                 + "loopback (whago's API, PostgreSQL, a tcp dockerd)", "use an overlay network unless the nodes run nothing else on 127.0.0.1"))
            }
            if noNewPrivilegesKept == false {
                warnings.append(("workers run without no-new-privileges (this dockerd drops NoNewPrivileges from services)",
                                 "upgrade the swarm's managers to Docker 25 or later, or set runtime.swarm.security.noNewPrivileges: false"))
            }
            guard warnings.isEmpty else {
                return .warning(([detail] + warnings.map(\.detail)).joined(separator: "; "), fix: warnings.map(\.fix).joined(separator: "; "))
            }
            return .ok(detail)
        } catch let error as WhagoError {
            return .error(error.message, fix: error.code == .invalidConfig
                ? "run `docker swarm init` (or point runtime.swarm.socket at a manager of the swarm)"
                : "start dockerd, or point runtime.swarm.socket at a swarm manager's socket")
        } catch {
            return .error("the Docker daemon at \(client.endpoint) failed: \(error)")
        }
    }

    /// Whether the daemon kept `NoNewPrivileges` in the last service whago created (nil: none
    /// created yet, or not asked for): Swarm before Engine API 1.44 (Docker 25, moby#46386) drops the field silently,
    /// and its workers then run without it. Warned once, and reported by ``healthCheck()``.
    public var noNewPrivilegesKept: Bool? { privileges.withLock { $0 } }

    func checkPrivileges(of service: String) async {
        guard configuration.security.noNewPrivileges, let created = try? await self.service(service) else { return }
        let kept = created.Spec.TaskTemplate?.ContainerSpec?.Privileges?.NoNewPrivileges == true
        let previous = privileges.withLock { state in
            defer { state = kept }
            return state
        }
        if !kept, previous != false {
            logger.warning("""
                this dockerd does not keep NoNewPrivileges in a service's spec (Swarm supports it from Engine API 1.44, Docker 25, moby#46386): \
                workers run without no-new-privileges; upgrade the swarm's managers, or accept it with runtime.swarm.security.noNewPrivileges: false
                """)
        }
    }

    /// Checks the daemon is a manager of an active swarm.
    public func ping() async throws -> RuntimeInfo {
        let negotiated = try await client.negotiate()
        let reply = try await client.send(.get, "/info")
        guard reply.status == 200 else { throw failure(reply, "reading /info") }
        let swarm = try reply.decode(InfoBody.self, "/info").Swarm
        guard swarm?.LocalNodeState == "active", swarm?.ControlAvailable == true else {
            throw WhagoError(.invalidConfig, "the Docker daemon at \(client.endpoint) is not a manager of an active swarm "
                + "(its swarm state is '\(swarm?.LocalNodeState ?? "unknown")')")
        }
        let nodes = swarm?.Nodes ?? 0
        return RuntimeInfo(driver: "swarm", version: "Docker \(negotiated.engineVersion) swarm of \(nodes) node\(nodes == 1 ? "" : "s") "
            + "(API \(negotiated.daemonAPIVersion))")
    }
}
