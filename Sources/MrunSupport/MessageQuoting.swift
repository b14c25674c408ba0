/// How a message shows a value the user gave: in single quotes, at most ``limit`` characters, with
/// control characters written as escapes. A value is often a whole file's scalar or a pasted line;
/// echoing it raw would make a one-line error span pages, or let a newline forge a second message.
public enum MessageQuoting {
    public static let limit = 80

    public static func quoted(_ value: String) -> String {
        var shown = ""
        var count = 0
        for character in value {
            if count == limit {
                shown += "…"
                break
            }
            shown += escaped(character)
            count += 1
        }
        return "'\(shown)'"
    }

    private static func escaped(_ character: Character) -> String {
        guard character.unicodeScalars.contains(where: isControl) else { return String(character) }
        return character.unicodeScalars.map { scalar in
            switch scalar {
            case "\n": return "\\n"
            case "\r": return "\\r"
            case "\t": return "\\t"
            case _ where isControl(scalar): return "\\u{\(String(scalar.value, radix: 16))}"
            default: return String(scalar)
            }
        }.joined()
    }

    /// C0 and C1 control characters and DEL: nothing a name, path or option value needs.
    public static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value)
    }

    /// The first control character in `value`, or nil.
    public static func firstControl(in value: String) -> Unicode.Scalar? {
        value.unicodeScalars.first(where: isControl)
    }
}

extension DefaultStringInterpolation {
    /// `"got \(quoted: text)"`: the value as ``MessageQuoting/quoted(_:)`` shows it.
    public mutating func appendInterpolation(quoted value: some CustomStringConvertible) {
        appendLiteral(MessageQuoting.quoted(value.description))
    }
}
