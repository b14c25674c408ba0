import Yams
import MrunSupport

/// Reads a context from YAML, naming the file, line and column of anything wrong.
public enum ContextParser {
    public static func parse(_ text: String, file: String) throws(ConfigError) -> Context {
        let document = try YAMLDocument.configMapping(text, file: file, what: "a context")
        let pairs = document.pairs
        let keyNames = ContextKey.allCases.map(\.rawValue)
        var located: [(ContextKey, Node, Node)] = []
        for (keyNode, valueNode) in pairs {
            guard let name = keyNode.scalar?.string else {
                throw document.failure(at: keyNode, "keys must be plain names")
            }
            guard let key = ContextKey(rawValue: name) else {
                throw document.failure(
                    at: keyNode,
                    "unknown key \(quoted: name)\(Suggestion.hint(for: name, in: keyNames));"
                        + " see 'Context reference' in the README")
            }
            located.append((key, keyNode, valueNode))
        }
        guard let typeEntry = located.first(where: { $0.0 == .type }) else {
            throw document.failure(at: nil, "missing key 'type' (one of local, kubernetes, slurm, ssh)")
        }
        let typeName = typeEntry.2.scalar?.string ?? ""
        guard let type = ContextType(rawValue: typeName) else {
            let names = ContextType.allCases.map(\.rawValue)
            throw document.failure(
                at: typeEntry.2,
                "type must be one of \(names.joined(separator: ", ")), got \(quoted: typeName)"
                    + Suggestion.hint(for: typeName, in: names))
        }
        guard let nameEntry = located.first(where: { $0.0 == .name }),
            let name = nameEntry.2.scalar?.string, !name.isEmpty
        else {
            throw document.failure(at: nil, "missing key 'name' (e.g. name: gke.sandbox)")
        }
        var context = Context(name: name, type: type)
        for (key, keyNode, valueNode) in located where key != .type && key != .name {
            guard key.appliesTo.contains(type) else {
                let owners = ContextType.allCases.filter { key.appliesTo.contains($0) }.map(\.rawValue)
                throw document.failure(
                    at: keyNode,
                    "key \(quoted: key.rawValue) applies to \(owners.joined(separator: "/")) contexts,"
                        + " not \(type.rawValue) ones")
            }
            let value: ContextValue
            do {
                // `gpus: 0` (no GPUs) on an ssh context is not `gpus: [0]` (GPU 0).
                if key == .gpus, type == .ssh, let scalar = valueNode.scalar {
                    value = .string(scalar.string)
                } else {
                    value = try NodeValues.value(of: valueNode, shape: key.shape)
                }
            } catch let problem {
                throw document.failure(at: valueNode, "\(key.rawValue): \(problem.message)")
            }
            context.apply(key, value)
        }
        if let problem = context.problem() {
            let node = problem.key.flatMap { key in located.first(where: { $0.0 == key })?.2 }
            throw document.failure(at: node.map { place(problem.place, in: $0) }, problem.message)
        }
        return context
    }

    /// The node of a list's item or a mapping's entry, so that the error names its line; the
    /// whole value when the place is not found there.
    private static func place(_ place: Context.Problem.Place?, in node: Node) -> Node {
        switch place {
        case .item(let index):
            guard let items = node.sequence, items.indices.contains(index) else { return node }
            return items[index]
        case .mappingKey(let name):
            return node.mapping?.first { $0.key.scalar?.string == name }?.key ?? node
        case .mappingValue(let name):
            return node.mapping?.first { $0.key.scalar?.string == name }?.value ?? node
        case nil:
            return node
        }
    }
}

/// Converts YAML nodes to typed context values.
enum NodeValues {
    struct Problem: Error {
        var message: String
    }

    static func value(of node: Node, shape: ContextKey.Shape) throws(Problem) -> ContextValue {
        switch shape {
        case .string:
            return .string(try scalar(node, shape: shape))
        case .integer:
            let text = try scalar(node, shape: shape)
            guard let number = Int(text) else {
                throw Problem(message: "must be \(shape.noun), got \(quoted: text)")
            }
            return .integer(number)
        case .boolean:
            let text = try scalar(node, shape: shape)
            switch text.lowercased() {
            case "true", "yes", "on": return .boolean(true)
            case "false", "no", "off": return .boolean(false)
            default: throw Problem(message: "must be \(shape.noun), got \(quoted: text)")
            }
        case .stringList:
            if let sequence = node.sequence {
                var items: [String] = []
                for item in sequence { items.append(try scalar(item, shape: shape)) }
                return .list(items)
            }
            return .list([try scalar(node, shape: shape)])
        case .stringMap:
            guard let mapping = node.mapping else { throw Problem(message: "must be \(shape.noun)") }
            var map: [String: String] = [:]
            for (key, value) in mapping {
                map[try scalar(key, shape: shape)] = try scalar(value, shape: shape)
            }
            return .map(map)
        case .resources:
            return .resources(try resources(node))
        }
    }

    private static func scalar(_ node: Node, shape: ContextKey.Shape) throws(Problem) -> String {
        guard let scalar = node.scalar else { throw Problem(message: "must be \(shape.noun)") }
        if scalar.tag == .implicit && scalar.style == .plain
            && ["", "~", "null", "Null", "NULL"].contains(scalar.string)
        {
            throw Problem(message: "has no value; give \(shape.noun) or remove the key")
        }
        return scalar.string
    }

    private static func resources(_ node: Node) throws(Problem) -> Resources {
        do {
            if let mapping = node.mapping {
                var resources = Resources()
                for (key, value) in mapping {
                    guard let name = key.scalar?.string, let text = value.scalar?.string else {
                        throw Problem(message: "must be \(ContextKey.Shape.resources.noun)")
                    }
                    try resources.set(name, text)
                }
                return resources
            }
            return try Resources.parse(try scalar(node, shape: .resources))
        } catch let error as ResourcesError {
            throw Problem(message: error.description)
        } catch let problem as Problem {
            throw problem
        } catch {
            throw Problem(message: "\(error)")
        }
    }
}
