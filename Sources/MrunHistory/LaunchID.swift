import MrunSupport
import MrunConfig
import MrunTemplates
import MrunPlan

/// Short launch ids: 8 characters of Crockford's lowercase base32 (no i, l, o, u), 40 random bits.
///
/// Random rather than time-ordered so that the first two or three characters already tell launches
/// apart: with a timestamp prefix, launches of one sweep would share their leading characters and
/// every prefix lookup would be ambiguous.
public enum LaunchID {
    public static let alphabet = Array("0123456789abcdefghjkmnpqrstvwxyz")
    public static let length = 8

    public static func generate() -> String {
        var generator = SystemRandomNumberGenerator()
        return generate(using: &generator)
    }

    public static func generate<G: RandomNumberGenerator>(using generator: inout G) -> String {
        var bits = generator.next() & ((1 << (5 * UInt64(length))) - 1)
        var characters: [Character] = []
        for _ in 0..<length {
            characters.append(alphabet[Int(bits & 31)])
            bits >>= 5
        }
        return String(characters)
    }

    /// Whether `text` could be the start of an id (case-insensitive, as ids are read aloud and retyped).
    static func isPossiblePrefix(_ text: String) -> Bool {
        !text.isEmpty && text.count <= length && text.lowercased().allSatisfy { alphabet.contains($0) }
    }

    /// Whether `text` is a whole id as mrun makes them: safe as a file name.
    public static func isWellFormed(_ text: String) -> Bool {
        text.count == length && text.allSatisfy { alphabet.contains($0) }
    }
}
