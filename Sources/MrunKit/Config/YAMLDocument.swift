import Yams

/// A YAML file whose top level is a mapping, with errors that point at file, line and column.
struct YAMLDocument {
    let file: String
    let root: Node
    let pairs: [(Node, Node)]

    /// Parses `text`; `what` names the expected content in messages ("a context", "settings").
    static func mapping(_ text: String, file: String, what: String) throws(ConfigError) -> YAMLDocument {
        let node: Node?
        do {
            node = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            throw syntaxError(error, file: file)
        } catch {
            throw ConfigError.invalidFile(file: file, line: nil, column: nil, message: "invalid YAML: \(error)")
        }
        guard let node, !(node.scalar.map { $0.string.isEmpty } ?? false) else {
            throw ConfigError.invalidFile(
                file: file, line: nil, column: nil, message: "the file is empty; it should hold \(what)")
        }
        guard let mapping = node.mapping else {
            throw ConfigError.invalidFile(
                file: file, line: node.mark?.line, column: node.mark?.column,
                message: "expected \(what) as a mapping of 'key: value' lines")
        }
        return YAMLDocument(file: file, root: node, pairs: Array(mapping))
    }

    /// The text of a scalar value; a list or mapping where one text belongs is an error naming `key`.
    /// The message never shows the value: it may be a password.
    func scalar(_ node: Node, key: String) throws(ConfigError) -> String {
        guard let scalar = node.scalar else {
            let shape = node.sequence != nil ? "a list" : "a mapping"
            throw error(at: node, "\(key): must be a single value, not \(shape)")
        }
        return scalar.string
    }

    func error(at node: Node?, _ message: String) -> ConfigError {
        let mark = (node ?? root).mark
        return .invalidFile(file: file, line: mark?.line, column: mark?.column, message: message)
    }

    private static func syntaxError(_ error: YamlError, file: String) -> ConfigError {
        switch error {
        case .scanner(let context, let problem, let mark, _),
            .parser(let context, let problem, let mark, _),
            .composer(let context, let problem, let mark, _):
            let detail = context.map { " \($0.text)" } ?? ""
            return .invalidFile(
                file: file, line: mark.line, column: mark.column, message: "invalid YAML: \(problem)\(detail)")
        case .duplicatedKeysInMapping(let duplicates, let context):
            return .invalidFile(
                file: file, line: context.mark.line, column: context.mark.column,
                message: "duplicate key '\(duplicates.joined(separator: "', '"))'; keep one")
        case .reader(let problem, _, _, _):
            return .invalidFile(
                file: file, line: nil, column: nil, message: "cannot read the file as UTF-8 text: \(problem)")
        default:
            return .invalidFile(file: file, line: nil, column: nil, message: "invalid YAML: \(error)")
        }
    }
}
