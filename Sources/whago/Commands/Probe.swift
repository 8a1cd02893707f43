import ArgumentParser
import CurlHTTP
import Foundation

/// `whago probe URL`: a health check for images that have no shell, wget or curl.
struct Probe: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "probe",
        abstract: "Exit 0 when a URL answers with a 2xx status, 1 otherwise (for container health checks).",
        discussion: """
            Used as a worker container's HEALTHCHECK where the image has no shell or HTTP tool, e.g. \
            runtime.docker.healthCheck.command: [/usr/local/bin/whago, probe, "http://127.0.0.1:{port}{path}"].
            """
    )

    @Argument(help: "The URL to GET.")
    var url: String

    @Option(name: .long, help: "Give up after this many seconds.")
    var timeout: Int = 5

    func run() async throws {
        do {
            let response = try await HTTPClient.shared.execute(HTTPClientRequest(.get, url, timeout: .seconds(timeout), maxBodySize: 1 << 20))
            guard (200...299).contains(response.status) else {
                print("\(url) answered \(response.status)")
                throw ExitCode(1)
            }
        } catch let error as HTTPClientError {
            print("\(url) did not answer: \(error.message)")
            throw ExitCode(1)
        }
    }
}
