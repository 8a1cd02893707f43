import Foundation
import WhagoCore

/// The files of a data directory and the blocking I/O on them:
///
/// - `snapshot`: `WHAGOSN1`, CRC-32 and length (little endian), then the JSON of ``Snapshot``.
///   Written to `snapshot.tmp`, fsynced, renamed over `snapshot`, then the directory is fsynced.
/// - `wal-<generation>.log`: records `[length u32][crc32 u32][JSON]`, appended and fsynced before
///   any of them is acknowledged. Replay starts at the snapshot's generation. The JSON is
///   `{"format": 2, "mutation": …}`; a bare ``StoreMutation`` is a record of format 1 (written
///   before records carried their format) and still replays.
///
/// Used by one ``FileStore`` at a time (the directory lock guarantees it), from one serial queue.
final class StoreFiles: @unchecked Sendable {
    struct Snapshot: Codable {
        /// 2: with the event log, leases, messages and the key check; 1 still loads.
        var version = 2
        /// The first log generation whose records are not in `state`.
        var nextGeneration: Int
        var state: StoreState
    }

    let directory: String
    /// Seals the secrets in records and snapshots; nil stores them as they are.
    let sealer: SecretSealer?
    private var log: Int32 = -1
    private(set) var generation = 0
    /// Set by tests to make the next append fail as a full or failing disk does.
    var failNextAppend = false

    private static let magic = Array("WHAGOSN1".utf8)

    init(directory: String, sealer: SecretSealer?) {
        self.directory = directory
        self.sealer = sealer
    }

    /// JSON with the sealer in `userInfo`, so that every ``Secret`` is written sealed.
    func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        if let sealer { encoder.userInfo[.secretSealer] = sealer }
        return encoder
    }

    func decoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        if let sealer { decoder.userInfo[.secretSealer] = sealer }
        return decoder
    }

    deinit {
        if log >= 0 { close(log) }
    }

    private var snapshotPath: String { "\(directory)/snapshot" }
    private func logPath(_ generation: Int) -> String { "\(directory)/wal-\(generation).log" }

    // MARK: Opening

    /// Reads the snapshot and replays every log after it. A torn record at the very end of the last
    /// log (a crash mid-append: a record that runs past the end of the file, or a zero-filled tail)
    /// is cut off; damage anywhere else is a `corrupt` error naming the file and offset, and
    /// nothing is written.
    func recover() throws -> (state: StoreState, records: Int) {
        var state = StoreState()
        var first = 0
        if let data = try Self.contents(of: snapshotPath) {
            let snapshot = try Self.decodeSnapshot(data, path: snapshotPath, decoder: decoder())
            state = snapshot.state
            first = snapshot.nextGeneration
        }
        let generations = try logGenerations().filter { $0 >= first }
        var records = 0
        var cut: (path: String, offset: Int)?
        let decoder = self.decoder()
        for (index, generation) in generations.enumerated() {
            let path = logPath(generation)
            let bytes = try Self.contents(of: path) ?? []
            var offset = 0
            while offset < bytes.count {
                guard let (payload, next) = Self.record(in: bytes, at: offset) else {
                    let advice = "whago will not guess: restore the data directory from a backup"
                    guard index == generations.count - 1 else {
                        throw WhagoError(.corrupt, "\(path) is damaged at byte \(offset) and is not the last log; \(advice)")
                    }
                    guard Self.isTornTail(bytes, at: offset) else {
                        throw WhagoError(.corrupt, "\(path) is damaged at byte \(offset), with intact data after it; \(advice)")
                    }
                    // The tail of the last log: a record whose append never completed, never acknowledged.
                    cut = (path, offset)
                    break
                }
                let mutation: StoreMutation
                do {
                    mutation = try Self.decodeRecord(Data(payload), decoder: decoder)
                } catch let error as WhagoError {
                    throw error
                } catch {
                    throw WhagoError(.corrupt, "\(path): record at byte \(offset) has a valid checksum but cannot be read: \(error)")
                }
                do {
                    try state.apply(mutation)
                } catch {
                    throw WhagoError(.corrupt, "\(path): record at byte \(offset) does not apply (\(error.message))")
                }
                records += 1
                offset = next
            }
        }
        // Only once everything has been read: a refusal above leaves the files as they were.
        if let cut, truncate(cut.path, off_t(cut.offset)) != 0 {
            throw WhagoError(.unavailable, "cannot cut the torn end of \(cut.path): \(String(cString: strerror(errno)))")
        }
        try openLog(generation: generations.last ?? first)
        return (state, records)
    }

    /// The whole file, or nil when it does not exist; any other failure to read it is an error
    /// (a snapshot that cannot be read is not a missing one).
    private static func contents(of path: String) throws -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            if errno == ENOENT { return nil }
            throw WhagoError(.unavailable, "cannot open \(path): \(String(cString: strerror(errno))); whago will not start without it")
        }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count == 0 { return bytes }
            guard count > 0 else {
                if errno == EINTR { continue }
                throw WhagoError(.unavailable, "cannot read \(path): \(String(cString: strerror(errno))); whago will not start without it")
            }
            bytes += chunk[0..<count]
        }
    }

    /// Whether the unreadable bytes at `offset` are what a crash mid-append leaves: a record that
    /// runs to or past the end of the file, or nothing but zeros (blocks allocated, never written).
    private static func isTornTail(_ bytes: [UInt8], at offset: Int) -> Bool {
        if bytes[offset...].allSatisfy({ $0 == 0 }) { return true }
        guard bytes.count - offset >= 8 else { return true }
        let length = Int(readLittleEndian(bytes, at: offset))
        return length > 0 && offset + 8 + length >= bytes.count
    }

    private func logGenerations() throws -> [Int] {
        try FileManager.default.contentsOfDirectory(atPath: directory).compactMap { name -> Int? in
            guard name.hasPrefix("wal-"), name.hasSuffix(".log") else { return nil }
            return Int(name.dropFirst(4).dropLast(4))
        }.sorted()
    }

    private func openLog(generation: Int) throws {
        let fd = open(logPath(generation), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw WhagoError(.unavailable, "cannot open \(logPath(generation)): \(String(cString: strerror(errno)))") }
        if log >= 0 { close(log) }
        log = fd
        self.generation = generation
        try syncDirectory()
    }

    // MARK: Writing

    /// Appends records and fsyncs once for all of them (group commit).
    func append(_ records: [[UInt8]]) throws {
        var buffer: [UInt8] = []
        for payload in records {
            buffer += Self.littleEndian(UInt32(payload.count)) + Self.littleEndian(CRC32.checksum(payload)) + payload
        }
        if failNextAppend {
            failNextAppend = false
            throw WhagoError(.unavailable, "cannot append to the write-ahead log: simulated I/O error")
        }
        var written = 0
        while written < buffer.count {
            let result = buffer[written...].withUnsafeBytes { write(log, $0.baseAddress, $0.count) }
            guard result > 0 else {
                if result < 0, errno == EINTR { continue }
                throw WhagoError(.unavailable, "cannot append to the write-ahead log: \(String(cString: strerror(errno)))")
            }
            written += result
        }
        guard fdatasync(log) == 0 else {
            throw WhagoError(.unavailable, "cannot fsync the write-ahead log: \(String(cString: strerror(errno)))")
        }
    }

    /// Starts a new log generation, writes a snapshot of `state` (everything before it), and
    /// deletes the logs the snapshot replaces. A crash at any point leaves a recoverable directory.
    func compact(_ state: StoreState) throws {
        let next = generation + 1
        try openLog(generation: next)
        let json = try encoder().encode(Snapshot(nextGeneration: next, state: state))
        let bytes = Self.magic + Self.littleEndian(CRC32.checksum(json)) + Self.littleEndian(UInt32(json.count)) + Array(json)
        let temporary = snapshotPath + ".tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw WhagoError(.unavailable, "cannot write \(temporary): \(String(cString: strerror(errno)))") }
        let wrote = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        let synced = fsync(fd)
        close(fd)
        guard wrote == bytes.count, synced == 0, rename(temporary, snapshotPath) == 0 else {
            throw WhagoError(.unavailable, "cannot write the snapshot: \(String(cString: strerror(errno)))")
        }
        try syncDirectory()
        for old in try logGenerations() where old < next { unlink(logPath(old)) }
    }

    private func syncDirectory() throws {
        let fd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw WhagoError(.unavailable, "cannot open \(directory): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw WhagoError(.unavailable, "cannot fsync \(directory): \(String(cString: strerror(errno)))") }
    }

    // MARK: Encoding

    /// The format of the records this code writes.
    static let recordFormat = 2

    private struct Record: Codable {
        var format: Int
        var mutation: StoreMutation
    }

    /// A log record's payload: the mutation with the record format.
    func encodeRecord(_ mutation: StoreMutation) throws -> [UInt8] {
        Array(try encoder().encode(Record(format: Self.recordFormat, mutation: mutation)))
    }

    /// A record of any format this code reads: format 2 (`{"format", "mutation"}`) or a bare
    /// mutation (format 1); a newer format is refused rather than misread.
    private static func decodeRecord(_ data: Data, decoder: JSONDecoder) throws -> StoreMutation {
        struct Format: Decodable { var format: Int? }
        switch try decoder.decode(Format.self, from: data).format {
        case nil: return try decoder.decode(StoreMutation.self, from: data)
        case let format? where format <= recordFormat: return try decoder.decode(Record.self, from: data).mutation
        case let format?:
            throw WhagoError(.corrupt, "a log record has format \(format), newer than this whago reads (\(recordFormat)); run a newer whago")
        }
    }

    private static func decodeSnapshot(_ bytes: [UInt8], path: String, decoder: JSONDecoder) throws -> Snapshot {
        let damaged = "the snapshot \(path) is damaged"
        let advice = "; whago will not overwrite it: restore it from a backup, or move it away to start from the logs alone"
        guard bytes.count >= 16, Array(bytes[0..<8]) == magic else { throw WhagoError(.corrupt, damaged + " (not a whago snapshot)" + advice) }
        let crc = readLittleEndian(bytes, at: 8)
        let length = Int(readLittleEndian(bytes, at: 12))
        guard bytes.count == 16 + length else { throw WhagoError(.corrupt, damaged + " (wrong length)" + advice) }
        let json = bytes[16...]
        guard CRC32.checksum(json) == crc else { throw WhagoError(.corrupt, damaged + " (checksum mismatch)" + advice) }
        do {
            return try decoder.decode(Snapshot.self, from: Data(json))
        } catch let error as WhagoError {
            throw error
        } catch {
            throw WhagoError(.corrupt, damaged + " (\(error))" + advice)
        }
    }

    /// The payload of the record at `offset` and where the next one starts, or nil when the bytes
    /// there are not a whole, intact record.
    private static func record(in bytes: [UInt8], at offset: Int) -> ([UInt8], Int)? {
        guard bytes.count - offset >= 8 else { return nil }
        let length = Int(readLittleEndian(bytes, at: offset))
        let crc = readLittleEndian(bytes, at: offset + 4)
        let start = offset + 8
        // CRC-32 of nothing is 0: a zero-length record is a zero-filled tail, never a real one.
        guard length > 0, length <= bytes.count - start else { return nil }
        let payload = Array(bytes[start..<(start + length)])
        guard CRC32.checksum(payload) == crc else { return nil }
        return (payload, start + length)
    }

    private static func littleEndian(_ value: UInt32) -> [UInt8] {
        [UInt8(value & 0xFF), UInt8((value >> 8) & 0xFF), UInt8((value >> 16) & 0xFF), UInt8(value >> 24)]
    }

    private static func readLittleEndian(_ bytes: [UInt8], at offset: Int) -> UInt32 {
        UInt32(bytes[offset]) | UInt32(bytes[offset + 1]) << 8 | UInt32(bytes[offset + 2]) << 16 | UInt32(bytes[offset + 3]) << 24
    }
}
