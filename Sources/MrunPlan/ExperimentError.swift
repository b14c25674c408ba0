import MrunSupport
import MrunConfig
import MrunTemplates

/// Errors in what `mrun run` was asked to do.
public enum ExperimentError: UserFacingError, Equatable {
    case invalidProject(String)
    case missingScript(String)
    case scriptIsDirectory(String)
    case scriptOutsideProject(script: String, root: String)
    case requirementsOutsideProject(String)
    case invalidEnvironment(flag: String, item: String)
    case invalidNeptuneConfig(file: String, message: String)
    case planMismatch(type: ContextType, issue: String)
    case excludedFile(path: String, role: String)

    public var description: String {
        switch self {
        case .invalidProject(let project):
            return "--project: \(quoted: project) cannot name a project; use at most 63 letters, digits,"
                + " '-', '_', '.' or spaces (it becomes the namespace name)"
        case .missingScript(let script):
            return "\(script): no such script; give the path of the experiment's Python file"
        case .scriptIsDirectory(let script):
            return "\(script): is a directory; give the path of the experiment's Python file"
        case .scriptOutsideProject(let script, let root):
            return "\(script): is outside the project directory \(root); run mrun from the directory"
                + " that holds the code (it is what gets shipped)"
        case .requirementsOutsideProject(let path):
            return "--requirements: \(path) is outside the project directory; copy it into the project"
        case .invalidEnvironment(let flag, let item):
            return "\(flag): \(quoted: item) is not NAME=VALUE with NAME made of letters, digits and '_'"
        case .invalidNeptuneConfig(let file, let message):
            return "\(file): \(message)"
        case .excludedFile(let path, let role):
            return "\(path): \(role) is excluded by .gitignore or .mrunignore, so it would not be"
                + " shipped; re-include it with a '!\(path)' line in .mrunignore"
        case .planMismatch(let type, let issue):
            // Only reachable through a bug: every context type has a backend.
            return "internal error: the \(type.rawValue) backend was handed a plan it cannot run (\(issue));"
                + " please report it with the output of 'mrun run --dry-run'"
        }
    }
}
