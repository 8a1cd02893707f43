import CurlHTTP
import DockerRuntime
import Foundation
import Testing
import WhagoCore
import WhagoTesting

/// Tests against the private dockerd scripts/test starts (no bridge, no iptables): containers use
/// host networking, so every request stays on 127.0.0.1.
private func dockerSocket() throws -> String {
    try #require(TestServices.dockerSocket, Comment(rawValue: TestServices.missing("the private dockerd")))
}

/// A raw call to the test daemon, to look at what the driver did without going through it.
private func docker(_ method: HTTPClientRequest.Method, _ path: String) async throws -> (status: Int, json: JSONValue?) {
    let response = try await HTTPClient.shared.execute(HTTPClientRequest(method, "http://localhost/v1.41\(path)", unixSocketPath: try dockerSocket()))
    return (response.status, try? JSONDecoder().decode(JSONValue.self, from: Data(response.body)))
}

private let probeCommand = ["/usr/local/bin/whago", "probe", "http://127.0.0.1:{port}{path}"]

private func runtime(removeVolumes: Bool = false, healthCheckInterval: Duration = .seconds(30), instance: String? = nil) throws -> DockerRuntime {
    DockerRuntime(socket: try dockerSocket(), network: "host", restart: "no", removeVolumes: removeVolumes,
                  healthCheckCommand: probeCommand, healthCheckInterval: healthCheckInterval, instance: instance)
}

private func simulatorSpec(_ name: String, port: Int, labels: [String: String], environment: [String: String] = [:],
                           healthPath: String? = nil) -> WorkerSpec {
    var environment = environment
    environment["WAHA_SIM_HOST"] = "127.0.0.1"
    return WorkerSpec(name: name, image: TestServices.simulatorImage, environment: environment, labels: labels,
                      hostPort: port, containerPort: 3000, volume: VolumeMount(name: "\(name)-sessions", mountPath: "/app/.sessions"),
                      healthPath: healthPath)
}

private let conformance = RuntimeConformance(
    make: { try runtime() },
    spec: { name, port, labels, environment in simulatorSpec(name, port: port, labels: labels, environment: environment) },
    killFromOutside: { handle in
        let reply = try await docker(.post, "/containers/\(handle.runtimeID)/kill?signal=KILL")
        #expect(reply.status == 204)
    },
    launchInAnotherProcess: { name, port in
        try ChildProcess(WhagoBinary.bench, ["runtime-launch", "docker", try dockerSocket(), name, "\(port)"])
    }
)

/// Polls until `condition` holds (30 s at most).
private func eventually(_ what: String, _ condition: () async throws -> Bool) async throws {
    let deadline = ContinuousClock.now + .seconds(30)
    while try await !condition() {
        guard ContinuousClock.now < deadline else {
            Issue.record("never: \(what)")
            return
        }
        try await Task.sleep(for: .milliseconds(100))
    }
}

/// Collects events until `match` returns true; false after 30 s.
private func awaitEvent(_ events: AsyncThrowingStream<RuntimeEvent, any Error>, within limit: Duration = .seconds(30),
                        _ match: @escaping @Sendable (RuntimeEvent) -> Bool) async throws -> Bool {
    let task = Task {
        for try await event in events where match(event) { return true }
        return false
    }
    let watchdog = Task {
        try await Task.sleep(for: limit)
        task.cancel()
    }
    defer { watchdog.cancel() }
    return (try? await task.value) ?? false
}

@Suite("The docker runtime, against a private dockerd", .serialized, .usesPrivateDockerd,
       .enabled(if: TestServices.dockerSocket != nil || TestServices.required), .timeLimit(.minutes(10)))
struct DockerRuntimeTests {
    @Test func lifecycle() async throws { try await conformance.lifecycle(port: try freePort()) }
    @Test func idempotentLaunch() async throws { try await conformance.idempotentLaunch(port: try freePort()) }
    @Test func adoption() async throws { try await conformance.adoption(port: try freePort()) }
    @Test func killedFromOutside() async throws { try await conformance.killedFromOutside(port: try freePort()) }
    @Test func survivesCrashOfWhago() async throws { try await conformance.survivesCrashOfWhago(port: try freePort()) }

    @Test("a daemon reached over tcp:// with mutual TLS works the same as over its unix socket; without a client certificate it refuses")
    func overTCP() async throws {
        let tcp = try #require(TestServices.dockerTCP, Comment(rawValue: TestServices.missing("the private dockerd's TCP listener")))
        let tls = try #require(TestServices.tlsDirectory, Comment(rawValue: TestServices.missing("the tests' certificates")))
        let files = (ca: "\(tls)/ca.pem", cert: "\(tls)/client.pem", key: "\(tls)/client-key.pem")
        let overTCP = RuntimeConformance(
            make: { DockerRuntime(socket: tcp, tls: files, network: "host", restart: "no") },
            spec: { name, port, labels, environment in simulatorSpec(name, port: port, labels: labels, environment: environment) },
            killFromOutside: { _ in }
        )
        try await overTCP.lifecycle(port: try freePort())
        #expect(try await DockerRuntime(socket: tcp, tls: files).ping().version.hasPrefix("Docker "))

        // Plain text to the TLS port, and TLS without the client certificate, get nowhere.
        await #expect(throws: WhagoError.self) { try await DockerRuntime(socket: tcp).ping() }
        let anonymous = (ca: files.ca, cert: "\(tls)/server.pem", key: "\(tls)/server-key.pem")
        await #expect(throws: WhagoError.self, "a certificate not made for a client") {
            try await DockerRuntime(socket: tcp, tls: anonymous).ping()
        }
        let strangers = (ca: "\(tls)/other-ca.pem", cert: files.cert, key: files.key)
        await #expect(throws: WhagoError.self, "a daemon whose certificate chains to another authority") {
            try await DockerRuntime(socket: tcp, tls: strangers).ping()
        }
    }

    @Test("a remote daemon without TLS is refused before anything is sent")
    func remoteWithoutTLS() async throws {
        do {
            _ = try await DockerRuntime(socket: "tcp://docker-host.invalid:2375").ping()
            Issue.record("a remote daemon was spoken to in plain text")
        } catch let error as WhagoError {
            #expect(error.code == .invalidConfig)
            #expect(error.message.contains("only over TLS"), "\(error.message)")
        }
        let report = await DockerRuntime(socket: "tcp://docker-host.invalid:2375").healthCheck()
        #expect(report.status == .error)
        #expect(report.fix?.contains("runtime.docker.tls") == true, "\(report)")
    }

    @Test("a container without this whago's instance label is never stopped or removed")
    func foreignContainer() async throws {
        let owner = try runtime(instance: "owner-test")
        let name = "foreign-\(UUID().uuidString.prefix(6).lowercased())"
        let port = try freePort()
        // Launched by "another" whago (another instance label).
        let other = try runtime(instance: "someone-else")
        let handle = try await other.launch(simulatorSpec(name, port: port, labels: [WorkerLabel.instance: "someone-else", WorkerLabel.worker: name]))
        for attempt in ["stop", "remove"] {
            do {
                if attempt == "stop" { try await owner.stop(handle, grace: .seconds(1)) } else { try await owner.remove(handle) }
                Issue.record("\(attempt) went through on a foreign container")
            } catch let error as WhagoError {
                #expect(error.code == .conflict, "\(attempt): \(error)")
            }
        }
        #expect(try await docker(.get, "/containers/\(handle.runtimeID)/json").json?["State"]?["Running"] == .bool(true))
        try await other.remove(handle)
    }

    @Test("the health check warns when workers share the host's network")
    func hostNetworkWarning() async throws {
        let report = try await runtime().healthCheck()
        #expect(report.status == .warning, "\(report)")
        #expect(report.detail.contains("loopback"))
        #expect(report.detail.contains("API"))
    }

    @Test("ping and the health check report the daemon's version")
    func pingAndHealth() async throws {
        let runtime = try runtime()
        let info = try await runtime.ping()
        #expect(info.driver == "docker")
        #expect(info.version.hasPrefix("Docker "))
        let report = await runtime.healthCheck()
        #expect(report.status == .warning, "network host: \(report)")
        #expect(report.detail.contains("API"))
    }

    @Test("a socket nobody listens on is an unavailable error and a health check error with a fix")
    func unreachableDaemon() async throws {
        let directory = try TemporaryDirectory("docker-absent")
        defer { directory.remove() }
        let runtime = DockerRuntime(socket: directory.file("docker.sock"))
        let report = await runtime.healthCheck()
        #expect(report.status == .error)
        #expect(report.detail.contains(directory.file("docker.sock")))
        #expect(report.fix?.contains("runtime.docker.socket") == true)
        let error = await #expect(throws: WhagoError.self) { try await runtime.list(labels: [:]) }
        #expect(error?.code == .unavailable)
    }

    @Test("a missing image is a not_found error naming the image and how to load it; nothing is pulled")
    func missingImage() async throws {
        let runtime = try runtime()
        let spec = WorkerSpec(name: "noimage-\(UUID().uuidString.prefix(6).lowercased())", image: "whago/never-built:0.0",
                              labels: [WorkerLabel.instance: "conformance"], hostPort: try freePort(), containerPort: 3000)
        do {
            _ = try await runtime.launch(spec)
            Issue.record("a worker was launched from an image that does not exist")
        } catch let error as WhagoError {
            #expect(error.code == .notFound)
            #expect(error.message.contains("whago/never-built:0.0"))
            #expect(error.message.contains("docker load"))
            #expect(error.message.contains("pull: true"))
        }
        #expect(try await runtime.list(labels: [WorkerLabel.worker: spec.name]).isEmpty)
        #expect(try await docker(.get, "/containers/\(spec.name)/json").status == 404)
    }

    @Test("with pull: true a missing image is pulled, and a failed pull is a clear error (registry on 127.0.0.1, refusing)")
    func failedPull() async throws {
        let runtime = DockerRuntime(socket: try dockerSocket(), network: "host", restart: "no", pull: true)
        let registry = try RefusingPort()
        let image = "127.0.0.1:\(registry.port)/whago/absent:1"
        let name = "pull-\(UUID().uuidString.prefix(6).lowercased())"
        do {
            _ = try await runtime.launch(WorkerSpec(name: name, image: image, hostPort: try freePort(), containerPort: 3000))
            Issue.record("a worker was launched from an image no registry has")
        } catch let error as WhagoError {
            #expect(error.code == .unavailable, "\(error)")
            #expect(error.message.contains("pulling image \(image) failed"), "\(error)")
            #expect(error.message.contains("connection refused"), "\(error)")
        }
        #expect(try await docker(.get, "/containers/\(name)/json").status == 404)
    }

    @Test("an invalid container name is refused before Docker is asked")
    func invalidName() async throws {
        let error = await #expect(throws: WhagoError.self) {
            try await runtime().launch(simulatorSpec("/bad name", port: 1, labels: [:]))
        }
        #expect(error?.code == .invalidConfig)
    }

    @Test("the container carries the configured limits, labels, env, port, volume and health check; health reaches inspect and events")
    func containerSettingsAndHealth() async throws {
        let runtime = try runtime(healthCheckInterval: .seconds(1), instance: "health-test")
        let events = runtime.events()
        let port = try freePort()
        let name = "health-\(UUID().uuidString.prefix(6).lowercased())"
        let labels = [WorkerLabel.instance: "health-test", WorkerLabel.worker: name, WorkerLabel.tenant: "t1"]
        let handle = try await runtime.launch(simulatorSpec(name, port: port, labels: labels, healthPath: "/ping"))
        defer { Task { try? await runtime.remove(handle) } }

        let container = try #require(try await docker(.get, "/containers/\(handle.runtimeID)/json").json)
        #expect(container["HostConfig"]?["Memory"]?.numberValue == Double(1 << 30))
        #expect(container["HostConfig"]?["NetworkMode"]?.stringValue == "host")
        #expect(container["HostConfig"]?["Init"] == .bool(true))
        #expect(container["HostConfig"]?["RestartPolicy"]?["Name"]?.stringValue == "no")
        // Least privilege for untrusted workers.
        #expect(container["HostConfig"]?["CapDrop"] == .array(["ALL"]))
        #expect(container["HostConfig"]?["SecurityOpt"] == .array(["no-new-privileges"]))
        #expect(container["HostConfig"]?["PidsLimit"]?.numberValue == 1024)
        let environment = container["Config"]?["Env"]?.arrayValue?.compactMap(\.stringValue) ?? []
        #expect(environment.contains("PORT=\(port)"))
        #expect(container["Config"]?["Labels"]?[WorkerLabel.tenant]?.stringValue == "t1")
        #expect(container["Config"]?["Healthcheck"]?["Test"]?.arrayValue?.compactMap(\.stringValue)
                == ["CMD", "/usr/local/bin/whago", "probe", "http://127.0.0.1:\(port)/ping"])
        let mounts = container["Mounts"]?.arrayValue ?? []
        #expect(mounts.contains { $0["Name"]?.stringValue == "\(name)-sessions" && $0["Destination"]?.stringValue == "/app/.sessions" })

        #expect(try await awaitEvent(events) { $0.handle.name == name && $0.kind == .health(.healthy) }, "a healthy event arrived")
        #expect(try await runtime.inspect(handle)?.health == .healthy)
        #expect(try await runtime.inspect(handle)?.startedAt != nil)
    }

    @Test("the worker's named volume outlives the worker unless removeVolumes is set")
    func volumes() async throws {
        let keep = try runtime()
        let name = "vol-\(UUID().uuidString.prefix(6).lowercased())"
        let first = try await keep.launch(simulatorSpec(name, port: try freePort(), labels: [WorkerLabel.instance: "conformance", WorkerLabel.worker: name]))
        try await keep.remove(first)
        #expect(try await docker(.get, "/volumes/\(name)-sessions").status == 200, "the volume was kept")

        let drop = try runtime(removeVolumes: true)
        let second = try await drop.launch(simulatorSpec(name, port: try freePort(),
                                                        labels: [WorkerLabel.instance: "conformance", WorkerLabel.worker: name]))
        #expect(second.runtimeID != first.runtimeID)
        try await drop.remove(second)
        #expect(try await docker(.get, "/volumes/\(name)-sessions").status == 404, "the volume was removed")
    }

    @Test("a stopped worker is started again by a second launch, keeping its container")
    func relaunchStopped() async throws {
        let runtime = try runtime()
        let name = "restart-\(UUID().uuidString.prefix(6).lowercased())"
        let spec = simulatorSpec(name, port: try freePort(), labels: [WorkerLabel.instance: "conformance", WorkerLabel.worker: name])
        let first = try await runtime.launch(spec)
        try await runtime.stop(first, grace: .seconds(5))
        #expect(try await runtime.inspect(first)?.status == .exited)
        let second = try await runtime.launch(spec)
        #expect(second.runtimeID == first.runtimeID)
        #expect(try await runtime.inspect(second)?.status == .running)
        try await runtime.remove(second)
    }

    @Test("the events stream reconnects by itself after dockerd restarts", .restartsPrivateDockerd)
    func eventsSurviveDaemonRestart() async throws {
        let control = try #require(TestServices.dockerControl, Comment(rawValue: TestServices.missing("the private dockerd")))
        let runtime = try runtime(instance: "reconnect-test")
        let events = runtime.events()
        let name = "after-restart-\(UUID().uuidString.prefix(6).lowercased())"
        // Longer than the control script's own waits (up to 30 s to stop and 30 s to start dockerd).
        let seen = Task { try await awaitEvent(events, within: .seconds(180)) { $0.handle.name == name && $0.kind == .started } }

        let restart = try ChildProcess(control, ["restart"])
        #expect(try await restart.waitForExit() == 0, "dockerd restarted")
        let handle = try await runtime.launch(simulatorSpec(name, port: try freePort(),
                                                            labels: [WorkerLabel.instance: "reconnect-test", WorkerLabel.worker: name]))
        #expect(try await seen.value, "the start after the restart came through the same stream")
        try await runtime.remove(handle)
    }
}
