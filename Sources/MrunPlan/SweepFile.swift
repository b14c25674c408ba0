import Foundation
import Yams
import MrunSupport
import MrunConfig
import MrunTemplates

/// A sweep written down (`mrun run --spec sweep.yaml`): the experiment and the parameters to sweep.
///
/// ```yaml
/// script: train.py
/// args: [--epochs, 3]
/// name: lr-sweep
/// tags: [sweep]
/// grid: {lr: [0.1, 0.01], batch: [32, 64]}
/// zip: {seed: [1, 2, 3], task: [a, b, c]}
/// limit: 10
/// shuffle: true
/// seed: 7
/// max_parallel: 4
/// parallel: 2
/// ```
public struct SweepFile: Sendable, Equatable {
    public var script: String?
    /// Fixed arguments, before the ones after `--` and the point's parameters.
    public var args: [String] = []
    public var name: String?
    public var tags: [String] = []
    public var spec = SweepSpec()
    /// A Python spec's `project`, its experiments' `env` (`NAME=VALUE`, before `--env`'s) and what its
    /// job needs of mrun's mrunner compatibility module; nil and empty for a YAML spec.
    public var project: String?
    public var environment: [String] = []
    public var mrunner: MrunnerSpecSettings?

    public init() {}

    static let knownKeys = [
        "script", "args", "name", "tags", "grid", "zip", "limit", "shuffle", "seed", "max_parallel", "parallel",
    ]

    public static func parse(_ text: String, file: String) throws(FileProblem) -> SweepFile {
        let document = try YAMLDocument.mapping(text, file: file, what: "a sweep spec")
        var sweep = SweepFile()
        var zipNode: Node?
        var seedNode: Node?
        for (keyNode, valueNode) in document.pairs {
            let key = keyNode.scalar?.string ?? ""
            let read = Reader(document: document, key: key)
            switch key {
            case "script": sweep.script = try read.string(valueNode)
            case "name": sweep.name = try read.string(valueNode)
            case "args": sweep.args = try read.list(valueNode)
            case "tags": sweep.tags = try read.list(valueNode)
            case "grid": sweep.spec.grid = try read.axes(valueNode)
            case "zip":
                sweep.spec.zip = try read.axes(valueNode)
                zipNode = keyNode
            case "limit": sweep.spec.limit = try read.count(valueNode)
            case "max_parallel": sweep.spec.maxParallel = try read.count(valueNode)
            case "parallel" where valueNode.scalar?.string == "auto": sweep.spec.parallel = SweepSpec.perGPU
            case "parallel": sweep.spec.parallel = try read.count(valueNode)
            case "shuffle": sweep.spec.shuffle = try read.boolean(valueNode)
            case "seed":
                seedNode = keyNode
                let text = try read.string(valueNode)
                guard let seed = UInt64(text) else {
                    throw document.error(
                        at: valueNode, "seed: must be a whole number of 0 or more, got \(quoted: text)")
                }
                sweep.spec.seed = seed
            default:
                throw document.error(
                    at: keyNode,
                    "unknown key \(quoted: key)\(Suggestion.hint(for: key, in: knownKeys));"
                        + " known: \(knownKeys.joined(separator: ", "))")
            }
        }
        do {
            try sweep.spec.validate(gridSource: "grid", zipSource: "zip")
        } catch {
            throw document.error(at: zipNode, error.description)
        }
        if sweep.spec.seed != nil && !sweep.spec.shuffle {
            throw document.error(at: seedNode, "seed: only orders a shuffled sweep; add 'shuffle: true'")
        }
        return sweep
    }

    /// Reads the values of one key, with messages naming it and pointing at the value.
    private struct Reader {
        var document: YAMLDocument
        var key: String

        func fail(_ node: Node, _ message: String) -> FileProblem {
            document.error(at: node, "\(key): \(message)")
        }

        func scalar(_ node: Node, what: String) throws(FileProblem) -> Node.Scalar {
            guard let scalar = node.scalar else { throw fail(node, "must be \(what)") }
            if scalar.style == .plain && ["", "~", "null", "Null", "NULL"].contains(scalar.string) {
                throw fail(node, "has no value; give \(what) or remove the key")
            }
            return scalar
        }

        func string(_ node: Node) throws(FileProblem) -> String {
            try scalar(node, what: "a string").string
        }

        func list(_ node: Node) throws(FileProblem) -> [String] {
            guard let sequence = node.sequence else { return [try scalar(node, what: "a list").string] }
            var items: [String] = []
            for item in sequence { items.append(try scalar(item, what: "a list of strings").string) }
            return items
        }

        func count(_ node: Node) throws(FileProblem) -> Int {
            let text = try scalar(node, what: "a whole number").string
            guard let number = Int(text), number >= 1 else {
                throw fail(node, "must be a whole number of 1 or more, got \(quoted: text)")
            }
            return number
        }

        func boolean(_ node: Node) throws(FileProblem) -> Bool {
            let text = try scalar(node, what: "true or false").string
            switch text.lowercased() {
            case "true", "yes", "on": return true
            case "false", "no", "off": return false
            default: throw fail(node, "must be true or false, got \(quoted: text)")
            }
        }

        /// `NAME: [V1, V2]` pairs (a single value may stand alone), in file order.
        func axes(_ node: Node) throws(FileProblem) -> [SweepAxis] {
            guard let mapping = node.mapping else {
                throw fail(node, "must map parameter names to lists of values, e.g. lr: [0.1, 0.01]")
            }
            var axes: [SweepAxis] = []
            for (nameNode, valuesNode) in mapping {
                let name = nameNode.scalar?.string ?? ""
                do {
                    try SweepAxis.validateName(name, source: key)
                } catch {
                    throw document.error(at: nameNode, error.description)
                }
                let items = valuesNode.sequence.map(Array.init) ?? [valuesNode]
                var values: [SweepValue] = []
                for item in items {
                    guard let scalar = item.scalar else {
                        throw fail(item, "\(name): values must be numbers or strings, not lists or mappings")
                    }
                    let isNull = scalar.style == .plain && ["~", "null", "Null", "NULL"].contains(scalar.string)
                    if scalar.string.isEmpty || isNull {
                        throw fail(item, "\(name): has an empty value; give each value or remove the item")
                    }
                    values.append(SweepValue(scalar.string, quoted: scalar.style != .plain))
                }
                if values.isEmpty { throw fail(valuesNode, "\(name): has no values; list at least one") }
                axes.append(SweepAxis(name: name, values: values))
            }
            return axes
        }
    }
}

/// The sweep flags of `mrun run`, as given.
public struct SweepOptions: Sendable, Equatable {
    public var grid: [String] = []
    public var zip: [String] = []
    public var specFile: String?
    /// `--spec-var`: the list a Python spec names (default `experiments_list`).
    public var specVariable: String?
    /// The spec already read (a Python spec, which is evaluated asynchronously before).
    public var loadedSpec: SweepFile?
    public var limit: Int?
    public var shuffle = false
    public var seed: UInt64?
    public var maxParallel: Int?
    public var parallel: Int?

    public init() {}

    /// Refuses the flags that mean nothing on `type`: `--parallel` runs points at once on this
    /// machine, `--max-parallel` limits them on a cluster. (The spec file's keys are simply used
    /// where they apply, so one spec serves every context.)
    public func check(for type: ContextType) throws(SweepError) {
        if type != .local && parallel != nil {
            throw .wrongContext(
                flag: "--parallel", type: type, instead: "use --max-parallel to limit how many points run at once")
        }
        if type == .local && maxParallel != nil {
            throw .wrongContext(
                flag: "--max-parallel", type: type, instead: "use --parallel K to run K points at once here")
        }
    }

    /// The most points one mrun runs at once on this machine (its signal forwarding has room for as
    /// many children).
    public static let maximumParallel = 64

    /// Reads `--spec` and merges it with the flags into a sweep, completing `request` with the
    /// spec's script, fixed arguments, name and tags. Returns nil when no sweep was asked for.
    ///
    /// Flags win over the spec's settings (`limit`, `shuffle`, `seed`, `name`, ...); a script on
    /// the command line wins over the spec's. The spec's `args` come before those after `--`,
    /// its tags before `--tag`'s, its grid and zip before the flags' (a parameter in both is an error).
    public func resolve(into request: inout RunRequest, host: HostEnvironment) throws -> SweepSpec? {
        var file = loadedSpec
        if let specFile, file == nil {
            file = try SweepFile.parse(FileText.read(host.resolve(specFile), role: "sweep spec"), file: specFile)
        }
        if specVariable != nil && file?.mrunner == nil { throw PythonSpecError.variableWithoutPythonSpec }
        if file?.spec.points != nil, let flag = !grid.isEmpty ? "--grid" : !zip.isEmpty ? "--zip" : nil {
            throw PythonSpecError.withGrid(flag: flag)
        }
        guard file != nil || !grid.isEmpty || !zip.isEmpty else {
            let stray: [(String, Bool)] = [
                ("--limit", limit != nil), ("--shuffle", shuffle), ("--seed", seed != nil),
                ("--max-parallel", maxParallel != nil), ("--parallel", parallel != nil),
            ]
            if let flag = stray.first(where: \.1)?.0 { throw SweepError.optionWithoutSweep(flag: flag) }
            return nil
        }
        if request.script.isEmpty { request.script = file?.script ?? "" }
        if request.script.isEmpty { throw SweepError.missingScript }
        request.arguments = (file?.args ?? []) + request.arguments
        request.name = request.name ?? file?.name
        request.tags = (file?.tags ?? []) + request.tags
        request.project = request.project ?? file?.project
        request.environment = (file?.environment ?? []) + request.environment
        request.mrunner = file?.mrunner

        var spec = file?.spec ?? SweepSpec()
        let flagGrid = try grid.map { item throws(SweepError) in try SweepAxis.parse(item, flag: "--grid") }
        let flagZip = try zip.map { item throws(SweepError) in try SweepAxis.parse(item, flag: "--zip") }
        let fileNames = Set(spec.parameterNames)
        for axis in flagZip + flagGrid where fileNames.contains(axis.name) {
            let flag = flagZip.contains(axis) ? "--zip" : "--grid"
            throw SweepError.duplicateParameter(name: axis.name, first: specFile ?? "the spec", second: flag)
        }
        spec.grid += flagGrid
        spec.zip += flagZip
        try spec.validate(gridSource: "--grid", zipSource: "--zip")
        for (flag, value) in [("--limit", limit), ("--max-parallel", maxParallel), ("--parallel", parallel)] {
            if let value, value < 1, !(flag == "--parallel" && value == SweepSpec.perGPU) {
                throw SweepError.invalidCount(source: flag, value: value)
            }
        }
        spec.limit = limit ?? spec.limit
        spec.shuffle = shuffle || spec.shuffle
        spec.seed = seed ?? spec.seed
        spec.maxParallel = maxParallel ?? spec.maxParallel
        spec.parallel = parallel ?? spec.parallel
        if spec.seed != nil && !spec.shuffle { throw SweepError.seedWithoutShuffle }
        if let parallel = spec.parallel, parallel > Self.maximumParallel {
            let source = self.parallel != nil ? "--parallel" : "\(specFile ?? "spec"): parallel"
            throw SweepError.tooManyParallel(source: source, value: parallel, maximum: Self.maximumParallel)
        }
        return spec
    }
}
