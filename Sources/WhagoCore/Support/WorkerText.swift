/// Text that came from a worker (an error `message`, a header, a status reason) made safe to put in
/// an error or a log line: workers are untrusted, so what they say is bounded in length and
/// stripped of control characters (no forged log lines, no terminal escapes).
public enum WorkerText {
    /// The most UTF-8 bytes of a worker's text kept.
    public static let limit = 512

    /// `text` with control characters replaced by spaces, cut to ``limit`` bytes (on a character
    /// boundary) with `…` when it was longer.
    public static func clean(_ text: some StringProtocol, limit: Int = WorkerText.limit) -> String {
        var result = ""
        var bytes = 0
        for scalar in text.unicodeScalars {
            let kept: Unicode.Scalar = isControl(scalar) ? " " : scalar
            let size = String(kept).utf8.count
            guard bytes + size <= limit else { return result + "…" }
            result.unicodeScalars.append(kept)
            bytes += size
        }
        return result
    }

    /// C0/C1 controls (newlines, escapes) and the bidirectional overrides that reorder a line.
    private static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.properties.generalCategory == .control
            || (0x202A...0x202E).contains(scalar.value) || (0x2066...0x2069).contains(scalar.value)
    }
}
