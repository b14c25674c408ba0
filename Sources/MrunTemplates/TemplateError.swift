import MrunSupport

/// Errors in finding or rendering templates.
public enum TemplateError: UserFacingError, Equatable {
    case unreadable(path: String, reason: String)
    case render(source: String, message: String)
    /// A tag left open, or a template too large or too deep to parse; `line` is 1-based.
    case syntax(source: String, line: Int?, message: String)
    case invalidOutput(source: String, message: String)
    case missingDirectory(flag: String, path: String)

    public var description: String {
        switch self {
        case .unreadable(let path, let reason):
            return "\(path): cannot read the template: \(reason)"
        case .render(let source, let message):
            return "\(source): template error: \(message)"
        case .syntax(let source, let line, let message):
            return "\(source)\(line.map { ":\($0)" } ?? ""): template error: \(message)"
        case .invalidOutput(let source, let message):
            return "\(source): the rendered text is not valid YAML: \(message); fix the template"
        case .missingDirectory(let flag, let path):
            return "\(flag): \(path) is not a directory; give a directory of *.stencil templates"
        }
    }
}
