import Foundation

/// Whether `pid` is a live process. A zombie (exited, waiting for its parent to reap it) counts as
/// gone: `kill(pid, 0)` succeeds on a zombie, so it cannot tell a killed child from a live one.
public func processIsAlive(_ pid: Int32) -> Bool {
    guard pid > 0, let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
          let close = stat.lastIndex(of: ")") else { return false }
    return stat[stat.index(after: close)...].split(separator: " ").first != "Z"
}
