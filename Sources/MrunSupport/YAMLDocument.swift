import Yams

/// A YAML file whose top level is a mapping, with errors that point at file, line and column.
package struct YAMLDocument {
    package let file: String
    package let root: Node
    package let pairs: [(Node, Node)]

    /// Parses `text`; `what` names the expected content in messages ("a context", "settings").
    package static func mapping(_ text: String, file: String, what: String) throws(FileProblem) -> YAMLDocument {
        let node: Node?
        do {
            node = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            throw syntaxError(error, file: file)
        } catch {
            throw FileProblem(file: file, line: nil, column: nil, message: "invalid YAML: \(error)")
        }
        guard let node, !(node.scalar.map { $0.string.isEmpty } ?? false) else {
            throw FileProblem(
                file: file, line: nil, column: nil, message: "the file is empty; it should hold \(what)")
        }
        guard let mapping = node.mapping else {
            throw FileProblem(
                file: file, line: node.mark?.line, column: node.mark?.column,
                message: "expected \(what) as a mapping of 'key: value' lines")
        }
        return YAMLDocument(file: file, root: node, pairs: Array(mapping))
    }

    /// The text of a scalar value; a list or mapping where one text belongs is an error naming `key`.
    /// The message never shows the value: it may be a password.
    package func scalar(_ node: Node, key: String) throws(FileProblem) -> String {
        guard let scalar = node.scalar else {
            let shape = node.sequence != nil ? "a list" : "a mapping"
            throw error(at: node, "\(key): must be a single value, not \(shape)")
        }
        return scalar.string
    }

    package func error(at node: Node?, _ message: String) -> FileProblem {
        let mark = (node ?? root).mark
        return FileProblem(file: file, line: mark?.line, column: mark?.column, message: message)
    }

    private static func syntaxError(_ error: YamlError, file: String) -> FileProblem {
        switch error {
        case .scanner(let context, let problem, let mark, _),
            .parser(let context, let problem, let mark, _),
            .composer(let context, let problem, let mark, _):
            let detail = context.map { " \($0.text)" } ?? ""
            return FileProblem(
                file: file, line: mark.line, column: mark.column, message: "invalid YAML: \(problem)\(detail)")
        case .duplicatedKeysInMapping(let duplicates, let context):
            return FileProblem(
                file: file, line: context.mark.line, column: context.mark.column,
                message: "duplicate key '\(duplicates.joined(separator: "', '"))'; keep one")
        case .reader(let problem, _, _, _):
            return FileProblem(
                file: file, line: nil, column: nil, message: "cannot read the file as UTF-8 text: \(problem)")
        default:
            return FileProblem(file: file, line: nil, column: nil, message: "invalid YAML: \(error)")
        }
    }
}

/// A problem at a place in a file; `line` and `column` are 1-based when known.
public struct FileProblem: UserFacingError, Equatable {
    public var file: String
    public var line: Int?
    public var column: Int?
    public var message: String

    public init(file: String, line: Int?, column: Int?, message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.message = message
    }

    public var description: String {
        let place = [line, column].compactMap { $0 }.map(String.init).joined(separator: ":")
        return place.isEmpty ? "\(file): \(message)" : "\(file):\(place): \(message)"
    }
}
