@testable import DockerEngine
@testable import DockerRuntime
import Foundation
import Testing
import WhagoCore

/// What the docker driver sends and how it reads answers, for the parts the private test daemon
/// cannot show: it runs without a bridge, so bridge networking is checked on the request itself.
@Suite("The docker driver's requests and parsing", .timeLimit(.minutes(3)))
struct DockerRequestTests {
    private func body(_ configuration: DockerConfiguration, healthPath: String? = "/ping") throws -> [String: Any] {
        let spec = WorkerSpec(name: "w1", image: "devlikeapro/waha:gows", environment: ["WAHA_API_KEY": "sha512:00"],
                              labels: [WorkerLabel.worker: "w1"], hostPort: 3105, containerPort: 3000,
                              volume: VolumeMount(name: "w1-sessions", mountPath: "/app/.sessions"), healthPath: healthPath)
        let data = try JSONEncoder().encode(ContainerCreateBody(spec, configuration))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    @Test("bridge networking publishes the port on 127.0.0.1 only and adds host.docker.internal")
    func bridge() throws {
        var configuration = DockerConfiguration()
        configuration.cpus = 1.5
        let json = try body(configuration)
        let host = try #require(json["HostConfig"] as? [String: Any])
        let bindings = try #require(host["PortBindings"] as? [String: [[String: String]]])
        #expect(bindings == ["3000/tcp": [["HostIp": "127.0.0.1", "HostPort": "3105"]]])
        #expect(host["ExtraHosts"] as? [String] == ["host.docker.internal:host-gateway"])
        #expect(host["NetworkMode"] as? String == "bridge")
        #expect(host["NanoCpus"] as? Int == 1_500_000_000)
        #expect(host["Memory"] as? Int == 1 << 30)
        #expect((host["RestartPolicy"] as? [String: Any])?["Name"] as? String == "unless-stopped")
        #expect(json["ExposedPorts"] as? [String: [String: String]] == ["3000/tcp": [:]])
        #expect((json["Env"] as? [String])?.contains("PORT=3000") == true)
        let mounts = try #require(host["Mounts"] as? [[String: Any]])
        #expect(mounts.first?["Type"] as? String == "volume")
        #expect(mounts.first?["Source"] as? String == "w1-sessions")
        #expect(mounts.first?["Target"] as? String == "/app/.sessions")
    }

    @Test("workers get least privilege: all capabilities dropped, no new privileges, a pid limit; read-only root on request")
    func leastPrivilege() throws {
        var configuration = DockerConfiguration()
        var host = try #require(try body(configuration)["HostConfig"] as? [String: Any])
        #expect(host["CapDrop"] as? [String] == ["ALL"])
        #expect(host["CapAdd"] == nil)
        #expect(host["SecurityOpt"] as? [String] == ["no-new-privileges"])
        #expect(host["PidsLimit"] as? Int == 1024)
        #expect(host["ReadonlyRootfs"] == nil)
        configuration.security.capAdd = ["CHOWN", "SETUID"]
        configuration.security.readOnlyRootfs = true
        configuration.security.pidsLimit = 64
        host = try #require(try body(configuration)["HostConfig"] as? [String: Any])
        #expect(host["CapAdd"] as? [String] == ["CHOWN", "SETUID"])
        #expect(host["ReadonlyRootfs"] as? Bool == true)
        #expect(host["Tmpfs"] as? [String: String] == ["/tmp": "rw,nosuid,nodev,size=268435456"])
        #expect(host["PidsLimit"] as? Int == 64)
    }

    @Test("host networking passes the leased port as PORT and publishes nothing")
    func host() throws {
        var configuration = DockerConfiguration()
        configuration.network = .host
        let json = try body(configuration)
        let host = try #require(json["HostConfig"] as? [String: Any])
        #expect(host["PortBindings"] == nil)
        #expect(host["ExtraHosts"] == nil)
        #expect((json["Env"] as? [String])?.contains("PORT=3105") == true)
    }

    @Test("the default health check probes the health path with wget, curl or node; none without a path")
    func defaultHealthCheck() throws {
        let json = try body(DockerConfiguration())
        let check = try #require(json["Healthcheck"] as? [String: Any])
        let test = try #require(check["Test"] as? [String])
        #expect(test.first == "CMD-SHELL")
        #expect(test.last?.contains("http://127.0.0.1:3000/ping") == true)
        #expect(check["Interval"] as? Int == 30_000_000_000)
        #expect(try body(DockerConfiguration(), healthPath: nil)["Healthcheck"] == nil)
    }

    @Test("image references split into repository and tag the way /images/create wants them")
    func imageReferences() {
        #expect(ImageReference("devlikeapro/waha:gows") == ImageReference(repository: "devlikeapro/waha", tag: "gows"))
        #expect(ImageReference("devlikeapro/waha") == ImageReference(repository: "devlikeapro/waha", tag: "latest"))
        #expect(ImageReference("registry:5000/waha") == ImageReference(repository: "registry:5000/waha", tag: "latest"))
        #expect(ImageReference("waha@sha256:abc").tag == nil)
    }

    @Test("socket settings: paths, unix:// and tcp:// are understood, anything else refused")
    func endpoints() {
        #expect(DockerClient.Endpoint("/var/run/docker.sock") == .unixSocket(path: "/var/run/docker.sock"))
        #expect(DockerClient.Endpoint("unix:///run/d.sock") == .unixSocket(path: "/run/d.sock"))
        #expect(DockerClient.Endpoint("tcp://10.0.0.5:2375") == .tcp(host: "10.0.0.5", port: 2375))
        #expect(DockerClient.Endpoint("docker.sock") == nil)
        #expect(DockerClient.Endpoint("tcp://host") == nil)
    }

    @Test("API versions compare numerically; 1.41 is the floor")
    func apiVersions() {
        #expect(DockerClient.APIVersion("1.9")! < DockerClient.APIVersion("1.41")!)
        #expect(DockerClient.APIVersion("1.40")! < DockerClient.minimumAPIVersion)
        #expect(DockerClient.APIVersion("1.50")! > DockerClient.maximumAPIVersion)
        #expect(DockerClient.APIVersion("x") == nil)
    }

    @Test("Docker events become runtime events; health actions are matched on their prefix")
    func events() throws {
        func decode(_ json: String) throws -> RuntimeEvent? {
            DockerEvents.event(try JSONDecoder().decode(EventMessage.self, from: Data(json.utf8)))
        }
        let die = try #require(try decode(#"{"Type":"container","Action":"die","Actor":{"ID":"abc","Attributes":{"name":"w1","exitCode":"137","whago.worker":"w1","image":"x"}},"timeNano":1700000000000000000}"#))
        #expect(die.kind == .exited(code: 137))
        #expect(die.handle == WorkerHandle(runtimeID: "abc", name: "w1", labels: ["whago.worker": "w1"]))
        #expect(try decode(#"{"Type":"container","Action":"health_status: unhealthy","Actor":{"ID":"abc","Attributes":{"name":"w1"}}}"#)?.kind == .health(.unhealthy))
        #expect(try decode(#"{"Type":"container","Action":"oom","Actor":{"ID":"abc","Attributes":{}}}"#)?.kind == .outOfMemory)
        #expect(try decode(#"{"Type":"container","Action":"exec_create: sh","Actor":{"ID":"abc"}}"#) == nil)
    }

    @Test("Docker's nanosecond times parse; its zero time means never")
    func times() throws {
        let date = try #require(DockerTime.parse("2026-11-29T05:58:11.123456789Z"))
        #expect(abs(date.timeIntervalSince1970 - 1_795_931_891.123) < 0.001)
        #expect(DockerTime.parse("0001-01-01T00:00:00Z") == nil)
        #expect(DockerTime.parse("2026-11-29T05:58:11Z") != nil)
    }
}
