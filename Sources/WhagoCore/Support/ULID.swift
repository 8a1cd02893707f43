public import Foundation

/// ULIDs (https://github.com/ulid/spec) in lower case: sortable by creation time, as WAHA's event
/// ids (`evt_<ulid>`) and whago's own ids are.
public enum ULID {
    private static let alphabet = Array("0123456789abcdefghjkmnpqrstvwxyz")

    /// 48 bits of milliseconds then 80 random bits, as 26 Crockford base-32 characters.
    public static func make(at date: Date = Date()) -> String {
        let milliseconds = UInt64(max(0, date.timeIntervalSince1970 * 1000))
        var generator = SystemRandomNumberGenerator()
        var characters: [Character] = []
        characters.reserveCapacity(26)
        for index in (0..<10).reversed() {
            characters.append(alphabet[Int((milliseconds >> (UInt64(index) * 5)) & 31)])
        }
        for _ in 0..<16 {
            characters.append(alphabet[Int(generator.next(upperBound: UInt8(32)))])
        }
        return String(characters)
    }
}
