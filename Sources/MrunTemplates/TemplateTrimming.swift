import Foundation
@preconcurrency import Stencil

/// Applies a template's `{%-` and `-%}` once, when it is parsed, instead of on every render.
///
/// Stencil keeps the marks on the text beside them and trims that text with a regular expression
/// each time it is rendered: a fifth of the rendering of a sweep's Jobs went there. The text is
/// constant, so it is trimmed here with the same expressions, and the blocks lose their marks.
enum TemplateTrimming {
    // Stencil's own patterns (TrimBehaviour's whitespaceAndNewLines), for the same result.
    private static let leading = try? NSRegularExpression(pattern: "^\\s+")
    private static let trailing = try? NSRegularExpression(pattern: "\\s+$")

    /// The marks of blocks that end with `-%}` and of those that start with `{%-`, as Stencil's
    /// lexer gives them (their parts are not public).
    private static let endsTrimming = marks(of: ["{% x -%}", "{%- x -%}", "{%+ x -%}"])
    private static let startsTrimming = marks(of: ["{%- x %}", "{%- x -%}", "{%- x +%}"])

    private static func marks(of blocks: [String]) -> [WhitespaceBehaviour] {
        blocks.compactMap { Template(templateString: $0).tokens.first?.whitespace }
    }

    /// `tokens` with every text trimmed as the parser would trim it: at its start when the block
    /// before it ends with `-%}`, at its end when the block after it starts with `{%-`.
    static func trimmed(_ tokens: [Token]) -> [Token] {
        guard let leading, let trailing, endsTrimming.count == 3, startsTrimming.count == 3 else { return tokens }
        let trims = { (token: Token, marks: [WhitespaceBehaviour]) in
            token.kind == .block && token.whitespace.map(marks.contains) == true
        }
        var result = tokens
        for (offset, token) in tokens.enumerated() where token.kind == .text {
            var text = token.contents
            if offset > 0, trims(tokens[offset - 1], endsTrimming) {
                text = replacing(leading, in: text)
            }
            if offset + 1 < tokens.count, trims(tokens[offset + 1], startsTrimming) {
                text = replacing(trailing, in: text)
            }
            if text != token.contents { result[offset] = .text(value: text, at: token.sourceMap) }
        }
        for token in result where token.kind == .block {
            token.whitespace = .unspecified
        }
        return result
    }

    private static func replacing(_ expression: NSRegularExpression, in text: String) -> String {
        guard !text.isEmpty else { return text }
        let range = NSRange(text.startIndex..<text.endIndex, in: text)
        return expression.stringByReplacingMatches(in: text, options: [], range: range, withTemplate: "")
    }
}
