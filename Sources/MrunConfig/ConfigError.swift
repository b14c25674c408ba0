import Yams
import MrunSupport

/// Errors in contexts, settings and the files that hold them.
public enum ConfigError: UserFacingError, Equatable {
    /// A problem at a place in a file; `line`/`column` are 1-based when known.
    case invalidFile(file: String, line: Int?, column: Int?, message: String)
    /// A problem with a value given on the command line.
    case invalidFlag(flag: String, message: String)
    case unknownContext(name: String, known: [String])
    case contextExists(name: String)
    case invalidContextName(String)
    case unknownSetting(key: String, known: [String])
    case builtInContext(String)
    case editorFailed(String)
    case editAborted(file: String)
    case io(String)

    public var description: String {
        switch self {
        case .invalidFile(let file, let line, let column, let message):
            let place = [line, column].compactMap { $0 }.map(String.init).joined(separator: ":")
            return place.isEmpty ? "\(file): \(message)" : "\(file):\(place): \(message)"
        case .invalidFlag(let flag, let message):
            return "\(flag): \(message)"
        case .unknownContext(let name, let known):
            let hint = Suggestion.hint(for: name, in: known)
            return "no context named \(quoted: name)\(hint); known: \(known.joined(separator: ", "))"
                + " (add one with 'mrun context add')"
        case .contextExists(let name):
            return "a context named \(quoted: name) already exists; choose another name,"
                + " or change it with 'mrun context edit \(name)'"
        case .invalidContextName(let name):
            return "invalid context name \(quoted: name): use letters, digits, '.', '_' and '-',"
                + " starting with a letter or digit, at most 63 characters"
        case .unknownSetting(let key, let known):
            return "unknown setting \(quoted: key)\(Suggestion.hint(for: key, in: known));"
                + " known settings: \(known.joined(separator: ", "))"
        case .builtInContext(let name):
            return "\(quoted: name) is the built-in context and cannot be changed or deleted;"
                + " add a context of your own instead"
        case .editorFailed(let message):
            return message
        case .editAborted(let file):
            return "edit aborted; \(file) is unchanged"
        case .io(let message):
            return message
        }
    }
}

extension ConfigError {
    /// A problem at a place in a context or settings file.
    public init(_ problem: FileProblem) {
        self = .invalidFile(file: problem.file, line: problem.line, column: problem.column, message: problem.message)
    }
}

extension YAMLDocument {
    /// ``mapping(_:file:what:)`` for the files of this layer, whose errors are ``ConfigError``s.
    static func configMapping(_ text: String, file: String, what: String) throws(ConfigError) -> YAMLDocument {
        do {
            return try mapping(text, file: file, what: what)
        } catch {
            throw ConfigError(error)
        }
    }

    func failure(at node: Node?, _ message: String) -> ConfigError {
        ConfigError(error(at: node, message))
    }
}
