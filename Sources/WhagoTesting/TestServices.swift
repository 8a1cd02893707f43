import Foundation

/// The real services `scripts/test` starts for the tests (on 127.0.0.1, in a temporary directory)
/// and hands over through environment variables.
///
/// A test that needs one runs when it is there; when it is not, the test is skipped only when run
/// by hand — under `scripts/test` or `CI=true` it runs and fails loudly.
public enum TestServices {
    private static var environment: [String: String] { ProcessInfo.processInfo.environment }

    /// Whether every service must be present: under `scripts/test` (which exports
    /// `WHAGO_TEST_SCRIPT=1`) or in CI (`CI` set to `true`, `1` or `yes`, in any case).
    public static var required: Bool {
        ["true", "1", "yes"].contains(environment["CI"]?.lowercased() ?? "") || environment["WHAGO_TEST_SCRIPT"] == "1"
    }

    /// A SOCKS5 server requiring a username and password (microsocks).
    public struct SOCKS5: Sendable {
        public var host: String
        public var port: Int
        public var username: String
        public var password: String
    }

    /// `WHAGO_TEST_SOCKS5_PORT`, `_USER`, `_PASSWORD`: microsocks on 127.0.0.1 with a plain password.
    public static var socks5: SOCKS5? { socks5(prefix: "WHAGO_TEST_SOCKS5") }

    /// `WHAGO_TEST_SOCKS5_SPECIAL_PORT`, `_USER`, `_PASSWORD`: microsocks whose password holds `@:/%`.
    public static var socks5WithSpecialPassword: SOCKS5? { socks5(prefix: "WHAGO_TEST_SOCKS5_SPECIAL") }

    private static func socks5(prefix: String) -> SOCKS5? {
        guard let port = environment["\(prefix)_PORT"].flatMap(Int.init), let username = environment["\(prefix)_USER"],
              let password = environment["\(prefix)_PASSWORD"] else { return nil }
        return SOCKS5(host: "127.0.0.1", port: port, username: username, password: password)
    }

    /// `WHAGO_TEST_POSTGRES_URL`: a PostgreSQL database the tests may create schemas in.
    public static var postgresURL: String? { environment["WHAGO_TEST_POSTGRES_URL"] }

    /// A new, empty database on the test PostgreSQL (its role may create databases), for workers
    /// that keep their sessions there: workers on one session database see and delete each
    /// other's sessions (WAHA's shared store), so each test's workers get a database of their own.
    /// Returns its URL.
    public static func freshDatabase(_ prefix: String) async throws -> String {
        guard let url = postgresURL, var components = URLComponents(string: url) else {
            throw ChildProcessError(missing("PostgreSQL"))
        }
        let name = prefix + "_" + UUID().uuidString.prefix(8).lowercased()
        let created = try await ChildProcess.run("/usr/bin/psql", [url, "-q", "-v", "ON_ERROR_STOP=1", "-c", "CREATE DATABASE \(name)"])
        guard created.status == 0 else { throw ChildProcessError("cannot create database \(name): \(created.stderr)") }
        components.path = "/" + name
        return components.string ?? url
    }

    /// `WHAGO_TEST_POSTGRES_CTL`: a script taking `stop` or `start` for that server.
    public static var postgresControl: String? { environment["WHAGO_TEST_POSTGRES_CTL"] }

    /// `WHAGO_TEST_POSTGRES_CRASH_URL`: a second server of its own for the tests that stop or kill
    /// it (``postgresCrashControl``), so that no other test finds its server down.
    public static var postgresCrashURL: String? { environment["WHAGO_TEST_POSTGRES_CRASH_URL"] }

    /// `WHAGO_TEST_POSTGRES_CRASH_CTL`: `stop`, `kill` or `start` for the crash tests' server.
    public static var postgresCrashControl: String? { environment["WHAGO_TEST_POSTGRES_CRASH_CTL"] }

    /// `WHAGO_TEST_DOCKER_SOCKET`: a private dockerd's unix socket (no bridge, no iptables: test
    /// containers use host networking), with the image `whago/waha-sim:dev` loaded.
    public static var dockerSocket: String? { environment["WHAGO_TEST_DOCKER_SOCKET"] }

    /// `WHAGO_TEST_TLS_DIR`: the tests' throwaway certificate authority (`ca.pem`), a server
    /// certificate for 127.0.0.1 (`server.pem`, `server-key.pem`), a client certificate
    /// (`client.pem`, `client-key.pem`) and an unrelated authority (`other-ca.pem`).
    public static var tlsDirectory: String? { environment["WHAGO_TEST_TLS_DIR"] }

    /// `WHAGO_TEST_POSTGRES_TLS_URL`: the same PostgreSQL as a role that may only connect over TLS.
    public static var postgresTLSURL: String? { environment["WHAGO_TEST_POSTGRES_TLS_URL"] }

    /// `WHAGO_TEST_DOCKER_TCP`: the same dockerd on `tcp://127.0.0.1:<port>`, mutual TLS only
    /// (the certificates of ``tlsDirectory``).
    public static var dockerTCP: String? { environment["WHAGO_TEST_DOCKER_TCP"] }

    /// `WHAGO_TEST_DOCKER_CTL`: a script taking `stop`, `start` or `restart` for that dockerd.
    public static var dockerControl: String? { environment["WHAGO_TEST_DOCKER_CTL"] }

    /// `WHAGO_TEST_SWARM_NODE_CTL`: a script that gives that dockerd's swarm a second node (another
    /// dockerd on this machine advertising 127.0.0.2): `start` (prints its node id), `stop` (the
    /// node is lost), `remove`.
    public static var swarmNodeControl: String? { environment["WHAGO_TEST_SWARM_NODE_CTL"] }

    /// The image of the simulator in that dockerd (`scripts/make-sim-image`).
    public static let simulatorImage = "whago/waha-sim:dev"

    /// The explanation tests fail with when a required service is missing.
    public static func missing(_ service: String) -> String {
        "\(service) is not running: run the tests with scripts/test, which starts it"
    }
}
