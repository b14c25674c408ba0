import Yams
import MrunSupport

/// Writes a context as YAML, keys in the order of the context reference, unset keys left out.
public enum ContextWriter {
    public static func yaml(_ context: Context) -> String {
        var pairs: [(Node, Node)] = []
        for key in ContextKey.allCases where key.appliesTo.contains(context.type) {
            guard let value = context.value(of: key) else { continue }
            pairs.append((Node(key.rawValue), node(for: value)))
        }
        do {
            return try Yams.serialize(node: Node(pairs), sortKeys: false)
        } catch {
            // Serialising plain strings cannot fail; keep a readable fallback rather than crash.
            return pairs.map { "\($0.0.string ?? ""): \($0.1.string ?? "")" }.joined(separator: "\n") + "\n"
        }
    }

    private static func node(for value: ContextValue) -> Node {
        switch value {
        case .string(let text): return Node(text, Tag(.str), style(for: text))
        case .integer(let number): return Node(String(number))
        case .boolean(let flag): return Node(flag ? "true" : "false")
        case .list(let items): return Node(items.map { Node($0, Tag(.str), style(for: $0)) })
        case .map(let map):
            return Node(
                map.sorted { $0.key < $1.key }.map { (Node($0.key), Node($0.value, Tag(.str), style(for: $0.value))) })
        case .resources(let resources): return Node(resources.description)
        }
    }

    /// Quote strings that YAML would otherwise read as numbers, booleans or null (e.g. time: 1:00:00).
    private static func style(for text: String) -> Node.Scalar.Style {
        if text.isEmpty { return .doubleQuoted }
        let plain = Node(text)
        let ambiguous = plain.int != nil || plain.float != nil || plain.bool != nil || plain.null != nil
        return ambiguous || text.contains(": ") || text.contains(":") ? .doubleQuoted : .any
    }
}
