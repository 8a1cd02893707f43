#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// Reads a file of `/proc` whole. Such files report a size of 0 and are produced a page at a time:
/// `FileManager.contents(atPath:)` stops after the first page (4 KiB), which drops most of
/// `/proc/net/tcp` on a busy machine and the end of a long `/proc/<pid>/environ`.
public enum ProcFile {
    /// The file's bytes, read until end of file; nil when it cannot be opened (gone, or another
    /// user's).
    public static func read(_ path: String) -> [UInt8]? {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16_384)
        while true {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                return nil
            }
            if count == 0 { return bytes }
            bytes.append(contentsOf: chunk[0..<count])
        }
    }

    /// The file as text (UTF-8, invalid bytes replaced).
    public static func text(_ path: String) -> String? {
        read(path).map { String(decoding: $0, as: UTF8.self) }
    }
}
