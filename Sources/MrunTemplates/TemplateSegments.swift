import Foundation
import Synchronization
@preconcurrency import Stencil

/// A template's top-level parts, each rendered again only when a variable it names has changed
/// since the first render: a sweep's points share most of their Job (the namespace, resources,
/// tolerations, volumes) and differ in a few variables (the name, the arguments, the point).
///
/// A part names the variables its tags and `{{ }}` mention, as dotted paths (`kubernetes.queue`);
/// it is the same as before when each path reaches the same value (a path that goes past what
/// the variables hold stands for all of what it reaches). Only templates made of text, variables,
/// `if` and `for` are split: any other tag (`include`, `extends`, a loop's `break`) could read
/// what no path names, and such a template is always rendered whole.
struct TemplateSegments: Sendable {
    struct Segment: @unchecked Sendable {
        var nodes: [NodeType]
        /// Positions in ``paths``.
        var mentions: [Int]
    }

    /// The first render's values and outputs, the reference the later renders compare with.
    struct Reference: @unchecked Sendable {
        var values: [Any?]
        var outputs: [String]
    }

    let segments: [Segment]
    let paths: [[Substring]]
    private let reference = ReferenceStore()

    private final class ReferenceStore: Sendable {
        let value = Mutex<Reference?>(nil)
    }

    /// The parts of the template parsed from `tokens` into the top-level `nodes`; nil when it
    /// cannot be split.
    init?(tokens: [Token], nodes: [NodeType]) {
        var ranges: [Range<Int>] = []
        var depth = 0
        var start = 0
        for (offset, token) in tokens.enumerated() {
            switch token.kind {
            case .comment: continue
            case .text, .variable:
                if depth == 0 { ranges.append(offset..<offset + 1) }
            case .block:
                switch token.components.first {
                case "if", "for":
                    if depth == 0 { start = offset }
                    depth += 1
                case "elif", "else", "empty":
                    guard depth > 0 else { return nil }
                case "endif", "endfor":
                    depth -= 1
                    guard depth >= 0 else { return nil }
                    if depth == 0 { ranges.append(start..<offset + 1) }
                default:
                    return nil
                }
            }
        }
        guard depth == 0, ranges.count == nodes.count else { return nil }
        var paths: [[Substring]] = []
        var positions: [String: Int] = [:]
        var segments: [Segment] = []
        for (range, node) in zip(ranges, nodes) {
            let first = tokens[range.lowerBound]
            let kindMatches =
                switch first.kind {
                case .text: node is TextNode
                case .variable: node is VariableNode
                default: !(node is TextNode) && !(node is VariableNode)
                }
            guard kindMatches else { return nil }
            var mentions: [Int] = []
            for token in tokens[range] where token.kind == .variable || token.kind == .block {
                for path in Self.mentionedPaths(in: token.contents) {
                    let position =
                        positions[path]
                        ?? {
                            paths.append(path.split(separator: "."))
                            positions[path] = paths.count - 1
                            return paths.count - 1
                        }()
                    if !mentions.contains(position) { mentions.append(position) }
                }
            }
            segments.append(Segment(nodes: [node], mentions: mentions))
        }
        self.segments = segments
        self.paths = paths
    }

    /// The template rendered with `variables` (whose Stencil context is `context`).
    func render(_ variables: [String: any Sendable], context: Context) throws -> String {
        guard let reference = reference.value.withLock({ $0 }) else {
            let outputs = try segments.map { try renderNodes($0.nodes, context) }
            let values = paths.map { Self.value(at: $0, in: variables) }
            reference.value.withLock { stored in
                if stored == nil { stored = Reference(values: values, outputs: outputs) }
            }
            return outputs.joined()
        }
        var unchanged: [Bool?] = Array(repeating: nil, count: paths.count)
        var result = ""
        for (offset, segment) in segments.enumerated() {
            let same = segment.mentions.allSatisfy { position in
                if let known = unchanged[position] { return known }
                let same = Self.same(Self.value(at: paths[position], in: variables), reference.values[position])
                unchanged[position] = same
                return same
            }
            result += same ? reference.outputs[offset] : try renderNodes(segment.nodes, context)
        }
        return result
    }

    /// The dotted names in a tag's or variable's text, string literals left out.
    static func mentionedPaths(in contents: String) -> [String] {
        var paths: [String] = []
        var current = ""
        var quote: Character?
        for character in contents + " " {
            if let open = quote {
                if character == open { quote = nil }
                continue
            }
            if character == "\"" || character == "'" {
                quote = character
            } else if character.isLetter || character.isNumber || character == "_" || character == "." {
                current.append(character)
                continue
            }
            if let first = current.first, first.isLetter || first == "_" { paths.append(current) }
            current = ""
        }
        return paths
    }

    /// What `path` reaches in `variables`: as far as mappings and lists go, then all of the rest.
    static func value(at path: [Substring], in variables: [String: any Sendable]) -> Any? {
        guard let first = path.first else { return nil }
        var current: Any? = variables[String(first)]
        for component in path.dropFirst() {
            if let fields = current as? [String: any Sendable], let next = fields[String(component)] {
                current = next
            } else if let items = current as? [any Sendable], let index = Int(component), items.indices.contains(index)
            {
                current = items[index]
            } else {
                break
            }
        }
        return current
    }

    /// Whether two template values are surely equal; false when unsure.
    static func same(_ left: Any?, _ right: Any?) -> Bool {
        switch (left, right) {
        case (nil, nil): return true
        case (let left as String, let right as String): return left == right
        case (let left as Bool, let right as Bool): return left == right
        case (let left as Int, let right as Int): return left == right
        case (let left as Double, let right as Double): return left == right
        case (let left as [String: any Sendable], let right as [String: any Sendable]):
            return left.count == right.count && left.allSatisfy { key, value in same(value, right[key]) }
        case (let left as [any Sendable], let right as [any Sendable]):
            return left.count == right.count && zip(left, right).allSatisfy { same($0, $1) }
        case (let left as String?, let right as String?): return left == nil && right == nil
        default: return false
        }
    }
}
