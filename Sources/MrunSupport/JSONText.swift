/// JSON text written directly, for the few places that compose JSON by hand (manifests, `MRUN_PARAMS`).
public enum JSONText {
    /// A JSON string literal of `string`; also a valid YAML scalar, which makes it the safe way to
    /// put any text into a manifest.
    public static func string(_ string: String) -> String {
        // Most strings (names, paths, arguments) need no escape: one pass over the bytes decides.
        let plain = !string.utf8.contains {
            $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") || $0 == 0x7F
        }
        if plain { return "\"" + string + "\"" }
        var out = "\""
        for scalar in string.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case let control where control.value < 0x20 || control.value == 0x7F:
                out += String(format: "\\u%04x", control.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

}
