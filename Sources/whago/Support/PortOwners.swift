import Foundation
import WhagoCore

/// Who listens on this machine's TCP ports, read from `/proc/net/tcp{,6}` and `/proc/<pid>/fd`
/// (nothing is bound or connected to): for `whago doctor`'s checks of the listen address and the
/// workers' port range.
struct PortOwners {
    /// A process listening on a port.
    struct Owner: Hashable, CustomStringConvertible {
        var pid: Int32?
        /// Its command name (`/proc/<pid>/comm`), or nil when whago cannot see it (another user's).
        var name: String?
        /// Whether it is a `whago` process (the daemon, or a `local` worker running `whago waha-sim`).
        var isWhago: Bool
        /// Whether it is a worker: a `local` worker (its environment names a worker directory) or a
        /// process in a container (docker's or Swarm's workers, with host networking or published).
        var isWorker: Bool

        var description: String {
            switch (name, pid) {
            case let (name?, pid?): "\(name) (pid \(pid))"
            case let (nil, pid?): "pid \(pid)"
            default: "a process whago cannot see"
            }
        }
    }

    /// Listening sockets by port: their inodes.
    private let listening: [Int: Set<UInt64>]
    /// Socket inode → pid, for the processes whago can see.
    private let pids: [UInt64: Int32]

    /// Reads the machine's listening sockets and their processes now.
    init() {
        var listening: [Int: Set<UInt64>] = [:]
        for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
            // Read to the end: a /proc file reports a size of 0 and comes a page at a time.
            guard let text = ProcFile.text(table) else { continue }
            for line in text.split(separator: "\n").dropFirst() {
                let fields = line.split(separator: " ", omittingEmptySubsequences: true)
                // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
                guard fields.count > 9, fields[3] == "0A", let colon = fields[1].lastIndex(of: ":"),
                      let port = Int(fields[1][fields[1].index(after: colon)...], radix: 16), let inode = UInt64(fields[9]) else { continue }
                listening[port, default: []].insert(inode)
            }
        }
        var pids: [UInt64: Int32] = [:]
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let pid = Int32(entry), let descriptors = try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(entry)/fd") else { continue }
            for descriptor in descriptors {
                guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(entry)/fd/\(descriptor)"),
                      target.hasPrefix("socket:["), let inode = UInt64(target.dropFirst(8).dropLast()) else { continue }
                pids[inode] = pid
            }
        }
        self.listening = listening
        self.pids = pids
    }

    /// The processes listening on `port` (any address), none when it is free.
    func owners(of port: Int) -> [Owner] {
        guard let inodes = listening[port] else { return [] }
        return Array(Set(inodes.map { inode in Self.owner(pids[inode]) }))
    }

    private static func owner(_ pid: Int32?) -> Owner {
        guard let pid else { return Owner(pid: nil, name: nil, isWhago: false, isWorker: false) }
        func read(_ file: String) -> String? {
            ProcFile.text("/proc/\(pid)/\(file)")
        }
        let name = read("comm")?.trimmingCharacters(in: .whitespacesAndNewlines)
        let environment = read("environ") ?? ""
        let cgroup = read("cgroup") ?? ""
        let inContainer = cgroup.contains("docker") || cgroup.contains("containerd") || cgroup.contains("kubepods")
        return Owner(pid: pid, name: name, isWhago: name == "whago", isWorker: environment.contains("WHAGO_WORKER_DIR=") || inContainer)
    }
}
