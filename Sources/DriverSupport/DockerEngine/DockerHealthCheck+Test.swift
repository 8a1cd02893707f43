import Foundation
public import WhagoCore

extension DockerHealthCheck {
    /// The health check's test, in Docker's form (`CMD …` or `CMD-SHELL …`): the configured command
    /// (`{port}`, `{path}` and `{address}` — where the worker is reached, 127.0.0.1 unless its node
    /// has another — replaced), else a probe of the worker's health path with wget, curl or node;
    /// `nil` when the worker has no health path and no command is configured.
    package func test(for spec: WorkerSpec, port: Int, address: String = "127.0.0.1") -> [String]? {
        let path = spec.healthPath ?? "/"
        if let command {
            return ["CMD"] + command.map { $0.replacingPlaceholders(port: port, path: path, address: address) }
        }
        guard spec.healthPath != nil else { return nil }
        let url = "http://127.0.0.1:\(port)\(path)"
        return ["CMD-SHELL", """
            wget -q -O /dev/null '\(url)' 2>/dev/null || curl -fsS -o /dev/null '\(url)' 2>/dev/null || \
            node -e "fetch('\(url)').then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))"
            """]
    }
}

extension String {
    fileprivate func replacingPlaceholders(port: Int, path: String, address: String) -> String {
        split(separator: "{port}", omittingEmptySubsequences: false).joined(separator: "\(port)")
            .split(separator: "{path}", omittingEmptySubsequences: false).joined(separator: path)
            .split(separator: "{address}", omittingEmptySubsequences: false).joined(separator: address)
    }
}

extension TimeSpan {
    /// Docker's unit for durations.
    package var nanoseconds: Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
