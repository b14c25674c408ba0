import Crypto
import Foundation
import MrunSupport
import MrunConfig
import MrunTemplates

/// Turns a run request and a resolved context into an experiment plan. Reads the project's files
/// and the user's Neptune settings; runs nothing, writes nothing, contacts nothing.
public struct PlanBuilder: Sendable {
    public var host: HostEnvironment
    public var store: ConfigStore
    /// Each context type's backend part of the plan.
    package var planners: [ContextType: any BackendPlanner]
    public var now: @Sendable () -> Date
    public var suffix: @Sendable () -> String
    /// Seed of a `--shuffle` without `--seed`.
    public var randomSeed: @Sendable () -> UInt64
    /// Whether the plans keep what the backend reads from their manifests (a sweep's Jobs as JSON,
    /// read on every core while planning); a dry run, which sends nothing, does without.
    public var keepsDocuments = true

    package init(
        host: HostEnvironment, store: ConfigStore, planners: [ContextType: any BackendPlanner],
        now: @escaping @Sendable () -> Date = { Date() },
        suffix: @escaping @Sendable () -> String = {
            var generator = SystemRandomNumberGenerator()
            return Naming.randomSuffix(using: &generator)
        },
        randomSeed: @escaping @Sendable () -> UInt64 = { UInt64.random(in: 0...UInt64(UInt32.max)) }
    ) {
        self.host = host
        self.store = store
        self.planners = planners
        self.now = now
        self.suffix = suffix
        self.randomSeed = randomSeed
    }

    public func plan(_ request: RunRequest, context: Context) throws -> ExperimentPlan {
        try prepare(request, context: context, suffix: suffix(), sweep: nil).plan
    }

    /// A plan and what rendering it needed, for sweeps to derive their points' plans from.
    struct Prepared {
        var plan: ExperimentPlan
        var rendering: PlanRendering
        var planner: any BackendPlanner
        /// The template's `sweep` variable, for a sweep.
        var sweep: SweepRendering?
        /// The Neptune config's parameters as JSON members, which points' `MRUN_PARAMS` extend.
        var neptuneParameters: [(name: String, json: String)]
    }

    /// Builds the plan named `<base>-<suffix>`; for a sweep (its points given), the plan shared by
    /// the points, with the names `<base>-<suffix>-<index>` and the sweep's artefacts.
    func prepare(_ request: RunRequest, context baseContext: Context, suffix: String, sweep points: SweepInput?)
        throws -> Prepared
    {
        try request.validate()
        var context = try request.applyingGang(to: baseContext)
        for target in request.notify {
            if case .failure(let problem) = NotifyTargets.parse(target) {
                throw ConfigError.invalidFlag(flag: "--notify", message: problem.message)
            }
            context.notify.append(target)
        }
        if let resources = request.resources {
            do {
                let extra = try Resources.parse(resources)
                context.resources.merge(extra)
            } catch {
                throw ConfigError.invalidFlag(flag: "--resources", message: error.description)
            }
        }
        let root = host.currentDirectory.standardizedFileURL
        let script = try projectPath(of: request.script, root: root, role: .script)
        let requirements = try request.requirements.map { try projectPath(of: $0, root: root, role: .requirements) }
        let neptuneConfig = try request.neptuneConfig.map { path -> NeptuneExperimentConfig in
            let url = host.resolve(path)
            return try NeptuneExperimentConfig.parse(FileText.read(url, role: "Neptune config"), file: path)
        }
        let project = try resolveProject(request, context: context, neptune: neptuneConfig, root: root)
        let baseName = Naming.baseName(request.name ?? neptuneConfig?.name ?? stem(of: script))
        let name =
            points.map { Naming.sweepName(base: baseName, id: suffix, count: $0.pointCount) }
            ?? Naming.uniqueName(base: baseName, suffix: suffix)

        var snapshot = try CodeSnapshotter.snapshot(root: root)
        let templates = try self.templates(request, context: context)
        // An experiment written for mrunner imports mrunner.helpers.client_helper in the job.
        if request.mrunner != nil && !MrunnerCompat.projectHasOwn(snapshot) {
            snapshot = snapshot.adding(try MrunnerCompat.files(templates: templates))
        }
        for (path, role) in [(script, "the script"), (requirements, "the requirements file")] {
            if let path, !snapshot.files.contains(where: { $0.path == path }) {
                throw ExperimentError.excludedFile(path: path, role: role)
            }
        }
        let python = context.pythonCommand
        let command =
            try isExecutableScript(root.appendingPathComponent(script))
            ? ["./\(script)"] : [python, script]
        let argv = command + request.arguments
        let neptuneParameters = Dictionary(
            (neptuneConfig?.parameters ?? []).map { ($0.name, $0.value) }, uniquingKeysWith: { $1 }
        ).sorted { $0.key < $1.key }.map { (name: $0.key, json: TemplateFilters.jsonString($0.value)) }
        let parameters = neptuneParameters.isEmpty ? nil : SweepPoint.json(neptuneParameters)
        let experiment = Experiment(
            name: name, baseName: baseName, project: project, script: script, args: request.arguments,
            tags: request.tags + (neptuneConfig?.tags ?? []), requirements: requirements, python: python,
            command: command, argv: argv, commandLine: argv.map(TemplateFilters.shellQuote).joined(separator: " "),
            parameters: parameters, contentHash: "", created: now())

        guard let planner = planners[context.type] else {
            throw ExperimentError.planMismatch(
                type: context.type, issue: "no backend plans \(context.type.rawValue) contexts")
        }
        var plan = ExperimentPlan(
            context: context, experiment: experiment, snapshot: snapshot, environment: [],
            storagePath: storagePath(context: context, project: project, planner: planner),
            target: UnplannedTarget(), artefacts: [])
        plan.shape = planner.shape(of: context)
        plan.environment = try environment(
            request, plan: plan, neptuneProject: neptuneConfig?.project, notifier: planner.endNotifier)
        if let base = planner.outputBase(storage: plan.storagePath, context: context) {
            plan.environment.set(
                OutputDirectory.variable, to: OutputDirectory.path(base: base, project: project, name: experiment.name),
                after: ["STORAGE_DIR", "MRUN_PROJECT"])
        }
        let rendering = PlanRendering(
            artefacts: ArtefactRenderer(templates: templates), request: request, runsDirectory: store.runsDirectory,
            keepsDocuments: keepsDocuments)
        // Before the backend's artefacts, which start the gang through it.
        if plan.shape.isGang { plan.artefacts.append(try rendering.artefacts.render(.gang, plan: plan)) }
        let sweep = points.map { SweepRendering(id: suffix, name: name, input: $0, neptune: neptuneParameters) }
        // Before the backend's artefacts too: the job runs it at its end.
        if plan.notifiesFromJob {
            var variables = try sweep?.variables()
            variables?["points"] = nil
            plan.artefacts.append(try rendering.artefacts.render(.notify, plan: plan, sweepVariables: variables))
        }
        try planner.complete(&plan, rendering: rendering, sweep: sweep)
        return Prepared(
            plan: plan, rendering: rendering, planner: planner, sweep: sweep, neptuneParameters: neptuneParameters)
    }

    // MARK: Resolution

    enum PathRole {
        case script, requirements
    }

    /// A path inside the project, relative to its root and '/'-separated.
    func projectPath(of path: String, root: URL, role: PathRole) throws -> String {
        let url = host.resolve(path)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
            if role == .requirements {
                throw ConfigError.io("--requirements: \(path): no such file; check the path")
            }
            throw ExperimentError.missingScript(path)
        }
        if isDirectory.boolValue {
            if role == .requirements { throw ConfigError.io("--requirements: \(path): is a directory, not a file") }
            throw ExperimentError.scriptIsDirectory(path)
        }
        let rootPath = root.path.hasSuffix("/") ? root.path : root.path + "/"
        guard url.path.hasPrefix(rootPath) else {
            if role == .requirements { throw ExperimentError.requirementsOutsideProject(path) }
            throw ExperimentError.scriptOutsideProject(script: path, root: root.path)
        }
        return String(url.path.dropFirst(rootPath.count))
    }

    func resolveProject(
        _ request: RunRequest, context: Context, neptune: NeptuneExperimentConfig?, root: URL
    ) throws -> String {
        // Neptune projects are written WORKSPACE/PROJECT; the namespace takes the project part.
        let fromNeptune = (neptune?.project ?? host.variables["NEPTUNE_PROJECT"])
            .flatMap { $0.split(separator: "/").last.map(String.init) }
        let requested = request.project ?? fromNeptune ?? context.project ?? root.lastPathComponent
        return try Naming.namespace(forProject: requested)
    }

    func stem(of script: String) -> String {
        let file = (script as NSString).lastPathComponent
        return (file as NSString).deletingPathExtension
    }

    func isExecutableScript(_ url: URL) throws -> Bool {
        guard FileManager.default.isExecutableFile(atPath: url.path),
            let handle = try? FileHandle(forReadingFrom: url)
        else { return false }
        defer { try? handle.close() }
        return (try? handle.read(upToCount: 2)) == Data("#!".utf8)
    }

    /// The templates a launch of `request` on `context` renders (and a Python spec is read with).
    public func templates(_ request: RunRequest, context: Context) throws -> TemplateSet {
        TemplateSet(searchPath: try templateSearchPath(request, context: context))
    }

    func templateSearchPath(_ request: RunRequest, context: Context) throws -> [URL] {
        var path: [URL] = []
        if let flag = request.templatesDir {
            let url = host.resolve(flag)
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), isDirectory.boolValue
            else { throw TemplateError.missingDirectory(flag: "--templates", path: flag) }
            path.append(url)
        }
        if let dir = context.templatesDir {
            path.append(host.resolve(dir))
        }
        path.append(store.templatesDirectory)
        return path
    }

    func storagePath(context: Context, project: String, planner: any BackendPlanner) -> String? {
        planner.storagePath(configured: context.storage, project: project, host: host, mrunHome: store.home)
    }

    func environment(
        _ request: RunRequest, plan: ExperimentPlan, neptuneProject: String?, notifier: EndNotifier
    ) throws -> [EnvironmentVariable] {
        var variables = [
            EnvironmentVariable(name: "MRUN_EXPERIMENT", value: plan.experiment.name),
            EnvironmentVariable(name: "MRUN_PROJECT", value: plan.experiment.project),
            EnvironmentVariable(name: "PYTHONUNBUFFERED", value: "1"),
        ]
        if let storage = plan.storagePath { variables.append(.init(name: "STORAGE_DIR", value: storage)) }
        if let parameters = plan.experiment.parameters {
            variables.append(.init(name: "MRUN_PARAMS", value: parameters))
        }
        // mrunner's python_path, which its jobs exported; the context's env and --env may override it.
        if let path = request.mrunner?.pythonPath, !path.isEmpty {
            variables.append(.init(name: "PYTHONPATH", value: path))
        }
        for (name, value) in plan.context.env.sorted(by: { $0.key < $1.key }) {
            variables.append(.init(name: name, value: value))
        }
        for item in request.environment {
            guard let equals = item.firstIndex(of: "="),
                Context.isValidEnvironmentName(String(item[..<equals]))
            else { throw ExperimentError.invalidEnvironment(flag: "--env", item: item) }
            variables.append(.init(name: String(item[..<equals]), value: String(item[item.index(after: equals)...])))
        }
        if plan.context.neptune {
            variables += try NeptuneCredentials.variables(host: host, project: neptuneProject)
        }
        if let notify = ExperimentPlan.jobNotifySettings(for: plan.context, notifier: notifier) {
            variables.append(notify)
        }
        // Later definitions win; each name appears once, where it first appeared.
        var order: [String] = []
        var latest: [String: EnvironmentVariable] = [:]
        for variable in variables {
            if latest[variable.name] == nil { order.append(variable.name) }
            latest[variable.name] = variable
        }
        return order.compactMap { latest[$0] }
    }
}

extension Resources {
    /// Takes every resource set in `other`.
    mutating func merge(_ other: Resources) {
        cpu = other.cpu ?? cpu
        memory = other.memory ?? memory
        gpu = other.gpu ?? gpu
        tpu = other.tpu ?? tpu
    }
}
