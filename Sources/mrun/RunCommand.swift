import ArgumentParser
import Foundation
import MrunKit

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run an experiment on the current (or --context) context.",
        discussion: """
            Everything after '--' goes to the experiment untouched:
              mrun run --requirements requirements.txt exp.py -- --epochs 3 --name "a b"
            """
    )

    enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
        case text, json
    }

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The experiment's Python script, inside the current directory.")
    var script: String

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

    @Argument(parsing: .postTerminator, help: "Arguments for the experiment, after '--'.")
    var arguments: [String] = []

    func validate() throws {
        if output == .json && !dryRun {
            throw ValidationError("--output json prints the plan, so it needs --dry-run")
        }
    }

    func run() async throws {
        let host = global.host
        let store = global.store
        var request = RunRequest(script: script, arguments: arguments)
        request.requirements = requirements
        request.baseImage = baseImage
        request.name = name
        request.project = project
        request.tags = tags
        request.environment = environment
        request.neptuneConfig = neptuneConfig
        request.resources = resources
        request.templatesDir = templatesDir
        let context = try store.resolveContext(override: global.context)
        let plan = try PlanBuilder(host: host, store: store).plan(request, context: context)
        if dryRun {
            print(output == .json ? try PlanPrinter.json(plan) : PlanPrinter.text(plan), terminator: "")
            return
        }
        let backend = try Backends.backend(for: context.type, host: host, store: store)
        let status = try await backend.execute(plan)
        if status != 0 { throw ExitCode(status) }
    }
}
