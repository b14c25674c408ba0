import ArgumentParser
import Foundation
import MrunKit

struct RunCommand: MrunCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run an experiment on the current (or --context) context.",
        discussion: """
            Everything after '--' goes to the experiment untouched:
              mrun run --requirements requirements.txt exp.py -- --epochs 3 --name "a b"

            Sweeps launch one experiment per point, each with '--NAME VALUE' for its parameters \
            appended to the arguments and MRUN_PARAMS (a JSON object) in its environment. A grid \
            of 2 x 2 points, 3 points zipped value by value, a spec file, mrunner's spec:
              mrun run exp.py --grid lr=0.1,0.01 --grid batch=32,64 -- --epochs 3
              mrun run exp.py --zip seed=1,2,3 --zip task=a,b,c
              mrun run --spec sweep.yaml
              mrun run --spec experiment_conf.py
            """
    )

    @OptionGroup var global: GlobalOptions
    @OptionGroup(title: "Gangs (distributed training)") var gang: GangOptions

    @Argument(help: "The experiment's Python script, inside the current directory (or 'script:' in --spec).")
    var script: String?

    @Option(name: [.customLong("requirements")], help: "pip requirements file installed before the run.")
    var requirements: String?

    @Option(name: [.customLong("base_image"), .customLong("base-image")], help: "Base image (kubernetes).")
    var baseImage: String?

    @Option(help: "Experiment name (default: the script's name); a unique suffix is added.")
    var name: String?

    @Option(help: "Project: the Kubernetes namespace and the Slurm directory.")
    var project: String?

    @Option(name: .customLong("tag"), help: "Tag the experiment (repeatable).")
    var tags: [String] = []

    @Option(name: .customLong("env"), help: "Set NAME=VALUE in the experiment's environment (repeatable).")
    var environment: [String] = []

    @Option(
        name: .customLong("set"),
        help: ArgumentHelp(
            "Override a context key for this launch, checked as in a context file (repeatable).",
            valueName: "key=value"))
    var overrides: [String] = []

    @Option(
        help: ArgumentHelp(
            "Tell this webhook URL or 'command: ARGV' when it ends, beside the context's notify (repeatable).",
            valueName: "target"))
    var notify: [String] = []

    @Option(name: .customLong("config"), help: "Neptune experiment config (project, name, tags, parameters).")
    var neptuneConfig: String?

    @Option(help: "Resources over the context's, e.g. \"cpu=4 mem=8G gpu=1\".")
    var resources: String?

    @Option(name: .customLong("templates"), help: "Directory of templates overriding the defaults.")
    var templatesDir: String?

    @Flag(name: [.customLong("dry-run"), .customLong("dry_run")], help: "Print the plan; run nothing.")
    var dryRun = false

    @Option(help: "Plan output format for --dry-run: text or json.")
    var output: OutputFormat = .text

    @Option(
        name: .customLong("grid"),
        help: "Sweep: NAME=V1,V2,... crossed with the other --grid parameters (repeatable; '\\,' is a comma).")
    var grid: [String] = []

    @Option(
        name: .customLong("zip"),
        help: "Sweep: NAME=V1,V2,... paired value by value with the other --zip lists, then crossed with the grid.")
    var zip: [String] = []

    @Option(
        name: .customLong("spec"),
        help: "Sweep spec: YAML (script, args, name, tags, grid, zip, limit, ...) or mrunner's SPEC.py.")
    var spec: String?

    @Option(
        name: [.customLong("spec-var"), .customLong("spec_var")],
        help: "Python spec: the list of experiments it sets (default: experiments_list).")
    var specVariable: String?

    @Option(help: "Sweep: launch only the first N points (after --shuffle).")
    var limit: Int?

    @Flag(help: "Sweep: launch the points in random order (repeatable with --seed).")
    var shuffle = false

    @Option(help: "Sweep: seed of --shuffle's order.")
    var seed: UInt64?

    @Option(
        name: [.customLong("max-parallel"), .customLong("max_parallel")],
        help: "Sweep on a cluster: at most P points run at once (Slurm: --array=...%P).")
    var maxParallel: Int?

    @Option(
        help: ArgumentHelp(
            "Sweep on this machine: run K points at once, or auto: one per free GPU (default: one after another).",
            valueName: "K|auto"))
    var parallel: String?

    @Flag(
        name: [.customLong("skip-unreachable"), .customLong("skip_unreachable")],
        help: "ssh context: run on the hosts that answer when some cannot be reached (default: nothing starts).")
    var skipUnreachable = false

    @Argument(parsing: .postTerminator, help: "Arguments for the experiment, after '--'.")
    var arguments: [String] = []

    func validate() throws {
        if script == nil && spec == nil {
            throw ValidationError("Missing expected argument '<script>'")
        }
        if output == .json && !dryRun {
            throw ValidationError("--output json prints the plan, so it needs --dry-run")
        }
    }

    func run(_ environment: MrunEnvironment) async throws {
        PhaseProfile.mark("start of mrun run")
        let host = environment.host
        let store = environment.store
        var request = RunRequest(
            script: script ?? "", arguments: arguments, requirements: requirements, baseImage: baseImage, name: name,
            project: project, tags: tags, environment: self.environment, neptuneConfig: neptuneConfig,
            templatesDir: templatesDir, resources: resources, gang: gang.settings)
        request.notify = notify
        if skipUnreachable { request.skipUnreachable = true }
        let context = try ContextFlags.overriding(store.resolveContext(override: global.context), with: overrides)
        var builder = PlanBuilder(host: host, store: store)
        builder.keepsDocuments = !dryRun
        let launcher = Launcher(environment: environment)
        if !dryRun { launcher.warmUp(context) }
        var sweepOptions = try self.sweepOptions
        if let spec, PythonSpecReader.isPythonSpec(spec) {
            let reader = PythonSpecReader(
                host: host, runner: SystemProcessRunner(), templates: try builder.templates(request, context: context))
            let read = try await reader.read(
                spec, variable: specVariable ?? PythonSpecReader.defaultVariable, python: context.pythonCommand)
            // What the spec printed (mrunner's specs print links and warnings) stays off standard output.
            if !read.output.isEmpty { FileHandle.standardError.write(Data(read.output.utf8)) }
            sweepOptions.loadedSpec = read.sweep
        }
        if let spec = try sweepOptions.resolve(into: &request, host: host) {
            try sweepOptions.check(for: context.type)
            let planning = try builder.sweepPlanning(request, spec: spec, context: context)
            if dryRun {
                let sweep = try planning.plannedNow()
                print(output == .json ? try SweepPrinter.json(sweep) : SweepPrinter.text(sweep), terminator: "")
                return
            }
            PhaseProfile.mark("planned the first point")
            let status = try await launcher.launch(planning, inputs: LaunchInputs(request: request, host: host))
            if status != 0 { throw ExitCode(status) }
            return
        }
        let plan = try builder.plan(request, context: context)
        if dryRun {
            print(output == .json ? try PlanPrinter.json(plan) : PlanPrinter.text(plan), terminator: "")
            return
        }
        let status = try await launcher.launch(plan, inputs: LaunchInputs(request: request, host: host))
        if status != 0 { throw ExitCode(status) }
    }

    var sweepOptions: SweepOptions {
        get throws {
            var options = SweepOptions()
            options.grid = grid
            options.zip = zip
            options.specFile = spec
            options.specVariable = specVariable
            options.limit = limit
            options.shuffle = shuffle
            options.seed = seed
            options.maxParallel = maxParallel
            options.parallel = try parallel.map { text in
                if text == "auto" { return SweepSpec.perGPU }
                guard let count = Int(text), count >= 1 else {
                    throw ValidationError("--parallel: \(text) is neither a number of 1 or more nor auto")
                }
                return count
            }
            return options
        }
    }
}
