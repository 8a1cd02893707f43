/// Splits a sequence of byte chunks into lines, whatever the chunk boundaries: a line may arrive in
/// several chunks and a chunk may hold several lines. A last line without a newline is kept.
public struct HTTPLines<Base: AsyncSequence>: AsyncSequence where Base.Element == [UInt8] {
    /// One line, without its newline.
    public typealias Element = String

    let base: Base

    public init(_ base: Base) { self.base = base }

    /// Reads the base sequence's chunks as they come, a line at a time.
    public struct AsyncIterator: AsyncIteratorProtocol {
        var base: Base.AsyncIterator
        var buffer: [UInt8] = []
        var scanned = 0
        var finished = false

        public mutating func next() async throws -> String? {
            while true {
                if let newline = buffer[scanned...].firstIndex(of: UInt8(ascii: "\n")) {
                    var line = buffer[..<newline]
                    if line.last == UInt8(ascii: "\r") { line = line.dropLast() }
                    let text = String(decoding: line, as: UTF8.self)
                    buffer.removeSubrange(...newline)
                    scanned = 0
                    return text
                }
                scanned = buffer.count
                if finished {
                    guard !buffer.isEmpty else { return nil }
                    defer { buffer = [] }
                    return String(decoding: buffer, as: UTF8.self)
                }
                if let chunk = try await base.next() {
                    buffer += chunk
                } else {
                    finished = true
                }
            }
        }
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(base: base.makeAsyncIterator())
    }
}

extension HTTPLines: Sendable where Base: Sendable {}
