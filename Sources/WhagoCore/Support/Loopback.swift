/// Whether a host names this machine's loopback interface (127.0.0.0/8, `::1`, `localhost`):
/// traffic to it never leaves the machine, so it may go without TLS.
public func isLoopbackHost(_ host: String) -> Bool {
    let bare = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
    if bare.lowercased() == "localhost" || bare == "::1" || bare == "0:0:0:0:0:0:0:1" { return true }
    let octets = bare.split(separator: ".", omittingEmptySubsequences: false)
    return octets.count == 4 && octets.allSatisfy { UInt8($0) != nil } && octets.first == "127"
}
