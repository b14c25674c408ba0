import MrunSupport

/// Checks a template's text before Stencil sees it, for what Stencil itself lets through: a tag
/// opened and never closed (Stencil renders it as text), and templates so large or so deeply
/// nested that parsing them would take minutes (its parser recurses once per level).
enum TemplateLint {
    /// Far more than any Dockerfile, manifest or sbatch script needs.
    static let maximumBytes = 1 << 20
    static let maximumDepth = 64

    struct Problem: Error, Equatable {
        /// 1-based line of the tag at fault; nil for the whole file.
        var line: Int?
        var message: String
    }

    /// The tag pairs Stencil's lexer knows.
    private static let closers: [Character: String] = ["{": "}}", "%": "%}", "#": "#}"]
    /// Tags that open a block, closed by the matching `end…` tag.
    private static let blockTags: Set<Substring> = ["if", "ifnot", "for", "block", "filter", "with"]

    static func problem(in text: String) -> Problem? {
        if text.utf8.count > maximumBytes {
            return Problem(
                line: nil, message: "the template is larger than \(maximumBytes >> 10) KiB; keep templates small")
        }
        let characters = Array(text)
        var line = 1
        var depth = 0
        var index = 0
        while index < characters.count {
            let character = characters[index]
            if character == "\n" { line += 1 }
            guard character == "{", index + 1 < characters.count, let closer = closers[characters[index + 1]] else {
                index += 1
                continue
            }
            let opener = String(characters[index...index + 1])
            guard let end = find(closer, in: characters, from: index + 2) else {
                return Problem(line: line, message: "\(opener) is never closed with \(closer)")
            }
            let body = String(characters[(index + 2)..<end])
            if opener != "{#", let nested = ["{{", "{%"].first(where: body.contains) {
                return Problem(line: line, message: "\(opener) is not closed with \(closer) before the next \(nested)")
            }
            if opener == "{%" {
                let name =
                    body.split(whereSeparator: { $0 == " " || $0 == "-" || $0 == "\n" || $0 == "\t" }).first ?? ""
                if blockTags.contains(name) {
                    depth += 1
                    if depth > maximumDepth {
                        return Problem(
                            line: line,
                            message: "blocks are nested more than \(maximumDepth) deep; flatten the template")
                    }
                } else if name.hasPrefix("end") {
                    depth = max(depth - 1, 0)
                }
            }
            line += body.reduce(0) { $1 == "\n" ? $0 + 1 : $0 }
            index = end + closer.count
        }
        return nil
    }

    private static func find(_ closer: String, in characters: [Character], from start: Int) -> Int? {
        guard let first = closer.first, let second = closer.last else { return nil }
        var index = start
        while index + 1 < characters.count {
            if characters[index] == first && characters[index + 1] == second { return index }
            index += 1
        }
        return nil
    }
}
