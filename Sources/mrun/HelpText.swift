/// Help text for an 80-column terminal. ArgumentParser wraps a discussion at the terminal's width,
/// continuing at the left margin, but keeps every line shorter than the width as it is. So examples
/// are kept short enough to be left alone, and lists are wrapped here, under their own text.
enum HelpText {
    /// ArgumentParser wraps a line of exactly 80 characters at 80 columns.
    static let width = 79

    /// `  TERM: TEXT` lines, TEXT's continuation lines indented under the term.
    static func list(_ items: [(term: String, text: String)]) -> String {
        items.map { wrap("  \($0.term): \($0.text)", indent: 6) }.joined(separator: "\n")
    }

    /// Breaks `line` at spaces into lines of at most `width` characters, keeping its own leading
    /// spaces; a word longer than that stays whole on a line of its own.
    static func wrap(_ line: String, indent: Int) -> String {
        let margin = String(repeating: " ", count: indent)
        var lines: [String] = []
        var current = String(line.prefix { $0 == " " })
        var onlyMargin = true
        for word in line.split(separator: " ") {
            if !onlyMargin && current.count + 1 + word.count > width {
                lines.append(current)
                current = margin
                onlyMargin = true
            }
            current += (onlyMargin ? "" : " ") + word
            onlyMargin = false
        }
        lines.append(current)
        return lines.joined(separator: "\n")
    }
}
