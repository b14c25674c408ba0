import Foundation
import Yams
import MrunSupport

/// Reads one kubeconfig file into a ``KubeconfigFile``, with errors that point at file, line and column.
public enum KubeconfigParser {
    public static func parse(_ text: String, file: String) throws(KubeconfigError) -> KubeconfigFile {
        let composed: Node?
        do {
            composed = try Yams.compose(yaml: text)
        } catch {
            throw syntaxError(text, file: file, fallback: error)
        }
        // kubectl accepts an empty file (or one with only comments) as an empty config.
        guard let composed, !(composed.scalar.map { $0.string.isEmpty } ?? false) else {
            return KubeconfigFile()
        }
        let root: Node
        do {
            root = try YAMLDocument.mapping(text, file: file, what: "a kubeconfig").root
        } catch {
            throw convert(error)
        }
        let parsed: KubeconfigFile
        do {
            parsed = try YAMLDecoder().decode(KubeconfigFile.self, from: root)
        } catch let error as DecodingError {
            throw decodingError(error, root: root, file: file)
        } catch {
            throw .invalidFile(file: file, line: nil, column: nil, message: "invalid kubeconfig: \(error)")
        }
        try checkUniqueNames(parsed, root: root, file: file)
        return parsed
    }

    /// ``YAMLDocument`` words YAML syntax errors with file, line and column; reuse its wording.
    private static func syntaxError(_ text: String, file: String, fallback: any Error) -> KubeconfigError {
        do {
            _ = try YAMLDocument.mapping(text, file: file, what: "a kubeconfig")
        } catch {
            return convert(error)
        }
        return .invalidFile(file: file, line: nil, column: nil, message: "invalid YAML: \(fallback)")
    }

    private static func convert(_ error: FileProblem) -> KubeconfigError {
        .invalidFile(file: error.file, line: error.line, column: error.column, message: error.message)
    }

    /// kubectl refuses a name listed twice in one file (across files, the first file wins).
    private static func checkUniqueNames(_ file: KubeconfigFile, root: Node, file path: String)
        throws(KubeconfigError)
    {
        let lists: [(String, [String])] = [
            ("clusters", file.clusters?.map(\.name) ?? []),
            ("users", file.users?.map(\.name) ?? []),
            ("contexts", file.contexts?.map(\.name) ?? []),
        ]
        for (list, names) in lists {
            var seen = Set<String>()
            for (index, name) in names.enumerated() where !seen.insert(name).inserted {
                let node = self.node(at: [.key(list), .index(index), "name"], in: root)
                throw .invalidFile(
                    file: path, line: node.mark?.line, column: node.mark?.column,
                    message: "\(list) lists the name \(quoted: name) twice; keep one")
            }
        }
    }

    private static func decodingError(_ error: DecodingError, root: Node, file: String) -> KubeconfigError {
        let path: [any CodingKey]
        let problem: String
        switch error {
        case .typeMismatch(let type, let context):
            path = context.codingPath
            problem = "expected \(noun(for: type))"
        case .valueNotFound(let type, let context):
            path = context.codingPath
            problem = "missing value; expected \(noun(for: type))"
        case .keyNotFound(let key, let context):
            path = context.codingPath
            problem = "missing key \(quoted: key.stringValue)"
        case .dataCorrupted(let context):
            path = context.codingPath
            problem = context.debugDescription
        @unknown default:
            path = []
            problem = "\(error)"
        }
        let steps: [PathStep] = path.map { key in key.intValue.map(PathStep.index) ?? .key(key.stringValue) }
        let node = node(at: steps, in: root)
        let location = describe(steps)
        let message = location.isEmpty ? problem : "\(location): \(problem)"
        return .invalidFile(file: file, line: node.mark?.line, column: node.mark?.column, message: message)
    }

    enum PathStep: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral {
        case key(String)
        case index(Int)

        init(stringLiteral value: String) { self = .key(value) }
        init(integerLiteral value: Int) { self = .index(value) }
    }

    /// The deepest node along `path`, to point an error at the right line.
    static func node(at path: [PathStep], in root: Node) -> Node {
        var current = root
        for step in path {
            let next: Node?
            switch step {
            case .index(let index):
                next = current.sequence.flatMap { index < $0.count ? $0[index] : nil }
            case .key(let key):
                next = current.mapping?.first { $0.key.scalar?.string == key }?.value
            }
            guard let next else { break }
            current = next
        }
        return current
    }

    /// `clusters[0].cluster.server`.
    private static func describe(_ path: [PathStep]) -> String {
        var text = ""
        for step in path {
            switch step {
            case .index(let index): text += "[\(index)]"
            case .key(let key): text += text.isEmpty ? key : ".\(key)"
            }
        }
        return text
    }

    private static func noun(for type: Any.Type) -> String {
        switch type {
        case is String.Type: return "a string"
        case is Bool.Type: return "true or false"
        default:
            // Yams names the container it wanted (`Node.Sequence`, `Node.Mapping`), not the Swift type.
            let name = "\(type)"
            return name.contains("Sequence") || name.hasPrefix("Array") ? "a list" : "a mapping of 'key: value' lines"
        }
    }
}
