import Foundation
import MrunSupport
import MrunConfig
import MrunTemplates

/// Reads an mrunner experiment specification (`mrun run --spec experiment_conf.py`): the local
/// Python evaluates it in a child process, with ``MrunnerCompat`` first on its `PYTHONPATH` (so it
/// needs no mrunner), and mrun takes the list it names as the points of a sweep.
public struct PythonSpecReader: Sendable {
    public var host: HostEnvironment
    public var runner: any ProcessRunning
    public var templates: TemplateSet

    public init(host: HostEnvironment, runner: any ProcessRunning, templates: TemplateSet) {
        self.host = host
        self.runner = runner
        self.templates = templates
    }

    /// Whether `--spec FILE` names a Python spec rather than a YAML one.
    public static func isPythonSpec(_ path: String) -> Bool { path.hasSuffix(".py") }

    public static let defaultVariable = "experiments_list"

    /// What the spec printed while it was evaluated (its own output, for standard error) and the
    /// sweep it lists.
    public struct Result: Sendable {
        public var sweep: SweepFile
        public var output: String
    }

    /// Evaluates `path` with `python` and reads the list named `variable`.
    public func read(_ path: String, variable: String, python: String) async throws -> Result {
        let url = host.resolve(path)
        guard FileManager.default.fileExists(atPath: url.path) else { throw PythonSpecError.missing(path) }
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("mrun-spec-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let reader = scratch.appendingPathComponent("mrunner-spec.py")
        let resultFile = scratch.appendingPathComponent("result.json")
        let compat = scratch.appendingPathComponent("compat")
        do {
            try MrunnerCompat.write(to: compat, templates: templates)
            try AtomicFile.write(
                try TemplateRenderer().render(templates.source(.mrunnerSpec), with: [:]), to: reader, mode: 0o644)
        } catch let error as TemplateError {
            throw error
        } catch {
            throw PythonSpecError.scratch(path: scratch.path, reason: "\(error)")
        }
        var environment = host.variables
        environment["PYTHONPATH"] = [compat.path, host.variables["PYTHONPATH"]].compactMap { $0 }
            .filter { !$0.isEmpty }.joined(separator: ":")
        let outcome: CommandResult
        do {
            outcome = try await runner.run(
                [python, reader.path, path, variable, resultFile.path], environment: environment,
                workingDirectory: host.currentDirectory.path)
        } catch {
            throw PythonSpecError.pythonUnavailable(python: python, spec: path, reason: "\(error)")
        }
        let output = outcome.standardOutput + outcome.standardError
        guard let data = try? Data(contentsOf: resultFile) else {
            let last = output.split(whereSeparator: \.isNewline).last.map(String.init) ?? "no output"
            throw PythonSpecError.pythonFailed(
                python: python, spec: path, detail: "exit status \(outcome.status.shellCode): \(last)")
        }
        let document: Document
        do {
            document = try JSONDecoder().decode(Document.self, from: data)
        } catch {
            throw PythonSpecError.pythonFailed(python: python, spec: path, detail: "unreadable result: \(error)")
        }
        if let message = document.error { throw PythonSpecError.failed(message) }
        return Result(sweep: try Self.sweep(document.experiments ?? [], spec: path, variable: variable), output: output)
    }

    // MARK: The evaluator's answer

    struct Document: Decodable {
        var error: String?
        var experiments: [Item]?
    }

    struct Item: Decodable, Equatable {
        struct Value: Decodable, Equatable {
            var name: String
            var kind: String
            var text: String
            var json: String
        }

        var name: String?
        var project: String?
        var script: [String]
        var tags: [String]
        var env: [String: String]
        var pythonPath: String?
        var parameters: [Value]

        enum CodingKeys: String, CodingKey {
            case name, project, script, tags, env, parameters
            case pythonPath = "python_path"
        }
    }

    /// The experiments as one sweep: each a point; the script, name, project, env and
    /// `python_path` they share (mrun launches one script per sweep); their tags, each once.
    static func sweep(_ items: [Item], spec: String, variable: String) throws(PythonSpecError) -> SweepFile {
        guard let first = items.first else { throw .empty(spec: spec, variable: variable) }
        for (index, item) in items.enumerated().dropFirst() {
            let fields: [(String, Bool)] = [
                ("script", item.script != first.script), ("name", item.name != first.name),
                ("project", item.project != first.project), ("env", item.env != first.env),
                ("python_path", item.pythonPath != first.pythonPath),
            ]
            if let field = fields.first(where: \.1)?.0 {
                throw .differingField(spec: spec, field: field, point: index)
            }
        }
        var sweep = SweepFile()
        var command = first.script
        // mrunner's `script: python experiment.py`: the interpreter is the context's.
        if let program = command.first, Self.isPython(program) { command.removeFirst() }
        sweep.script = command.first
        sweep.args = Array(command.dropFirst())
        sweep.name = first.name
        // mrunner's projects are Neptune's WORKSPACE/PROJECT; its namespace and directory were PROJECT.
        sweep.project = first.project.flatMap { $0.split(separator: "/").last.map(String.init) }
        // mrunner copied Neptune's token into env; mrun passes it itself, as a secret.
        sweep.environment = first.env.filter { !$0.key.hasPrefix("NEPTUNE_API_TOKEN") }.sorted { $0.key < $1.key }
            .map { "\($0.key)=\($0.value)" }
        sweep.mrunner = MrunnerSpecSettings(pythonPath: first.pythonPath)
        for tag in items.flatMap(\.tags) where !sweep.tags.contains(tag) { sweep.tags.append(tag) }
        var points: [[SweepPoint.Parameter]] = []
        for (index, item) in items.enumerated() {
            var parameters: [SweepPoint.Parameter] = []
            for value in item.parameters {
                do {
                    try SweepAxis.validateName(value.name, source: "\(spec): point \(index)")
                } catch {
                    throw .invalidName(spec: spec, name: value.name, point: index)
                }
                let swept: SweepValue
                switch value.kind {
                case "string": swept = SweepValue(value.text, quoted: true)
                case "plain": swept = SweepValue(value.text)
                default: swept = SweepValue(literal: value.json)
                }
                parameters.append(SweepPoint.Parameter(name: value.name, value: swept))
            }
            points.append(parameters)
        }
        sweep.spec.points = points
        return sweep
    }

    /// `python`, `python3`, `python3.11`, `/usr/bin/python3`.
    static func isPython(_ program: String) -> Bool {
        let name = program.split(separator: "/").last.map(String.init) ?? program
        guard name.hasPrefix("python") else { return false }
        return name.dropFirst("python".count).allSatisfy { $0.isNumber || $0 == "." }
    }
}

/// A Python spec that cannot be read, in one line naming it.
public enum PythonSpecError: UserFacingError, Equatable {
    case missing(String)
    case scratch(path: String, reason: String)
    case pythonUnavailable(python: String, spec: String, reason: String)
    case pythonFailed(python: String, spec: String, detail: String)
    /// The evaluator's own line: `SPEC:LINE: Type: message`, or what was refused.
    case failed(String)
    case empty(spec: String, variable: String)
    case differingField(spec: String, field: String, point: Int)
    case invalidName(spec: String, name: String, point: Int)
    case withGrid(flag: String)
    case variableWithoutPythonSpec

    public var description: String {
        switch self {
        case .missing(let path):
            return "--spec: \(path): no such file; check the path"
        case .scratch(let path, let reason):
            return "cannot write mrun's spec reader to \(path): \(reason); check that TMPDIR is writable"
        case .pythonUnavailable(let python, let spec, let reason):
            return "--spec \(spec): cannot run \(python) to read it (\(reason)); install Python 3 here or set the"
                + " context's python (--set python=python3 for one launch)"
        case .pythonFailed(let python, let spec, let detail):
            return "--spec \(spec): \(python) could not read it (\(detail))"
        case .failed(let message):
            return message
        case .empty(let spec, let variable):
            return "\(spec): \(variable) is empty; list at least one experiment"
        case .differingField(let spec, let field, let point):
            return "\(spec): point \(point) has another \(field) than point 0; mrun launches one sweep of one"
                + " script, name, project and env per spec: split the list into two specs (or --spec-var)"
        case .invalidName(let spec, let name, let point):
            return "\(spec): parameter \(quoted: name) of point \(point) cannot name a parameter (it becomes the"
                + " option --\(name)); use a letter, then letters, digits, '_', '-' or '.'"
        case .withGrid(let flag):
            return "\(flag): a Python spec lists its points itself; add the values to its params_grid instead"
        case .variableWithoutPythonSpec:
            return "--spec-var: names the list of a Python spec; give it with --spec SPEC.py"
        }
    }
}
