import MrunSupport
import MrunConfig
import MrunTemplates

/// Errors in a sweep's definition. `source` names where it came from: a flag (`--grid`) or a key
/// of the spec file (`grid`).
public enum SweepError: UserFacingError, Equatable {
    case malformedItem(source: String, item: String)
    case missingName(source: String, item: String)
    case invalidName(source: String, name: String)
    case noValues(source: String, name: String)
    case emptyValue(source: String, item: String)
    case duplicateParameter(name: String, first: String, second: String)
    case unequalZip(source: String, lengths: [Length])
    case invalidCount(source: String, value: Int)
    case tooManyParallel(source: String, value: Int, maximum: Int)
    case seedWithoutShuffle
    case optionWithoutSweep(flag: String)
    case tooManyPoints(count: String)
    case wrongContext(flag: String, type: ContextType, instead: String)
    case missingScript

    /// A zipped parameter and how many values it has.
    public struct Length: Sendable, Equatable {
        public var name: String
        public var count: Int
    }

    static let example = "lr=0.1,0.01"

    public var description: String {
        switch self {
        case .malformedItem(let source, let item):
            return "\(source): \(quoted: item) is not NAME=VALUE,VALUE,...; write e.g. \(source) \(Self.example)"
        case .missingName(let source, let item):
            return "\(source): \(quoted: item) has no parameter name before '='; write e.g. \(source) \(Self.example)"
        case .invalidName(let source, let name):
            return "\(source): \(quoted: name) cannot name a parameter (it becomes the option --\(name)); use a letter,"
                + " then letters, digits, '_', '-' or '.'"
        case .noValues(let source, let name):
            return "\(source): \(quoted: name) has no values; list them after '=', separated by commas"
                + " (e.g. \(name)=1,2)"
        case .emptyValue(let source, let item):
            return "\(source): \(quoted: item) has an empty value; remove the extra comma"
                + " (write '\\,' for a comma inside a value)"
        case .duplicateParameter(let name, let first, let second):
            let places = first == second ? "twice in \(first)" : "in both \(first) and \(second)"
            return "parameter \(quoted: name) is swept \(places); sweep each parameter once"
        case .unequalZip(let source, let lengths):
            let counts = lengths.map { "\($0.name) has \($0.count) value\($0.count == 1 ? "" : "s")" }
            return "\(source): zipped lists must have the same length, but \(counts.joined(separator: ", "));"
                + " use --grid to cross lists instead"
        case .invalidCount(let source, let value):
            return "\(source): must be 1 or more, got \(value)"
        case .tooManyParallel(let source, let value, let maximum):
            return "\(source): at most \(maximum) points can run at once in one mrun, got \(value)"
        case .seedWithoutShuffle:
            return "--seed: only orders a shuffled sweep; add --shuffle"
        case .optionWithoutSweep(let flag):
            return "\(flag): applies to sweeps; add --grid, --zip or --spec"
        case .tooManyPoints(let count):
            return "the sweep has \(count) points, more than mrun launches at once (\(SweepSpec.maximumPoints));"
                + " sweep fewer values, or launch the first ones with --limit N (without --shuffle)"
        case .wrongContext(let flag, let type, let instead):
            return "\(flag): does not apply to \(type.rawValue) contexts; \(instead)"
        case .missingScript:
            return "no script to run: give it as 'mrun run SCRIPT', or as 'script:' in the --spec file"
        }
    }
}
