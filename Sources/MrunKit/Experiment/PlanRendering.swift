import Crypto
import Foundation

/// Fills in the backend-specific part of a plan and renders its artefacts from the templates.
struct PlanRendering {
    var templates: TemplateSet
    var request: RunRequest
    var runsDirectory: URL
    var renderer = TemplateRenderer()

    static let imageWorkdir = "/workspace"
    static let claimName = "mrun-storage"
    static let secretName = "mrun-neptune"

    /// Completes `plan`; for a sweep, the plan its points share (their own parts come from
    /// ``completePoint(_:sweep:template:)``).
    func complete(_ plan: inout ExperimentPlan, sweep: SweepRendering? = nil) throws {
        let context = plan.context
        switch context.type {
        case .kubernetes:
            let settings = context.kubernetes
            plan.kubernetes = KubernetesTarget(
                namespace: settings.namespace ?? plan.experiment.project, claimName: Self.claimName,
                storageSize: settings.defaultPVCSize ?? KubernetesSettings.defaultPVCSize,
                secretName: Self.secretName, backoffLimit: settings.backoffLimit ?? 0,
                kubeContext: settings.kubeContext)
            let base = request.baseImage ?? settings.baseImage ?? KubernetesSettings.defaultBaseImage
            plan.image = ImageSpec(base: base, tag: "", workdir: Self.imageWorkdir)
            let dockerfile = try render(.dockerfile, plan: plan)
            plan.experiment.contentHash = Self.hash([plan.snapshot.contentHash, base, dockerfile.content])
            let registry = Self.registryPrefix(settings.registryURL ?? "")
            plan.image?.tag =
                "\(registry)/\(plan.experiment.project)/\(plan.experiment.baseName):\(plan.experiment.contentHash.prefix(24))"
            plan.artefacts = [dockerfile]
            // A sweep's points each have their own Job; they share the rest.
            for name in [TemplateSet.Name.namespace, .persistentVolumeClaim, .secret, .job]
            where (name != .secret || !plan.secrets.isEmpty) && (name != .job || sweep == nil) {
                plan.artefacts.append(try render(name, plan: plan, checkYAML: true))
            }
        case .slurm:
            let settings = context.slurm
            let workdir = Self.remoteWorkdir(settings.workdir)
            let jobDir =
                (workdir.hasSuffix("/") ? workdir : workdir + "/")
                + "\(plan.experiment.project)/\(plan.experiment.name)"
            plan.slurm = SlurmTarget(
                host: settings.host ?? "", loginNode: settings.loginNode ?? false, jobDir: jobDir,
                output: "\(jobDir)/" + (sweep == nil ? "slurm-%j.out" : "slurm-%A_%a.out"),
                envFile: "\(jobDir)/.mrun-env", partition: settings.partition, account: settings.account,
                qos: settings.qos, time: settings.time, nodes: settings.nodes, ntasks: settings.ntasks,
                cpusPerTask: settings.cpusPerTask ?? context.resources.cpu.flatMap { Int($0) },
                mem: settings.mem ?? context.resources.memory,
                gres: settings.gres ?? context.resources.gpu.map { "gpu:\($0)" }, constraint: settings.constraint,
                modules: settings.modules, setup: settings.setup, sbatchOptions: settings.sbatchOptions,
                containerImage: settings.containerImage.map(Self.containerImage))
            plan.experiment.contentHash = Self.hash([plan.snapshot.contentHash])
            plan.artefacts = [try render(.sbatch, plan: plan, sweep: sweep)]
        case .local:
            setLocalTarget(&plan)
            plan.experiment.contentHash = Self.hash([plan.snapshot.contentHash])
        }
    }

    /// Completes the plan of one point of a sweep, derived from the shared plan: its Kubernetes
    /// Job, its local run directory. On Slurm the shared array script runs every point.
    ///
    /// `sweep` is the `sweep` variable encoded once for all points (``SweepRendering/variables()``),
    /// without `points`, with the point's `index` and `point` set: the whole list in every point's
    /// render would make a sweep's planning quadratic in its points.
    func completePoint(
        _ plan: inout ExperimentPlan, sweep: [String: any Sendable], template: TemplateRenderer.Prepared?
    ) throws {
        switch plan.context.type {
        case .kubernetes:
            let job = try template ?? renderer.prepare(templates.source(.job))
            plan.artefacts.append(try render(job, name: .job, plan: plan, checkYAML: true, sweepVariables: sweep))
        case .slurm: break
        case .local: setLocalTarget(&plan)
        }
    }

    private func setLocalTarget(_ plan: inout ExperimentPlan) {
        let runDirectory = runsDirectory.appendingPathComponent(plan.experiment.name)
        plan.local = LocalTarget(
            runDirectory: runDirectory.path, logFile: runDirectory.appendingPathComponent("output.log").path)
    }

    /// Renders one template; secrets appear redacted unless `revealSecrets` (only when executing).
    func render(
        _ name: TemplateSet.Name, plan: ExperimentPlan, checkYAML: Bool = false, revealSecrets: Bool = false,
        sweep: SweepRendering? = nil
    ) throws -> Artefact {
        try render(
            name, plan: plan, checkYAML: checkYAML, revealSecrets: revealSecrets,
            sweepVariables: try sweep.map { try $0.variables() })
    }

    /// Renders one template with the `sweep` variable already encoded.
    func render(
        _ name: TemplateSet.Name, plan: ExperimentPlan, checkYAML: Bool = false, revealSecrets: Bool = false,
        sweepVariables: [String: any Sendable]?
    ) throws -> Artefact {
        try render(
            renderer.prepare(templates.source(name)), name: name, plan: plan, checkYAML: checkYAML,
            revealSecrets: revealSecrets, sweepVariables: sweepVariables)
    }

    /// The template a sweep's points render their own artefact from (their Kubernetes Job),
    /// tokenized once for all of them; nil when they have none.
    func pointTemplate(for type: ContextType) throws -> TemplateRenderer.Prepared? {
        type == .kubernetes ? renderer.prepare(try templates.source(.job)) : nil
    }

    /// Renders `name` from its template, tokenized already.
    func render(
        _ template: TemplateRenderer.Prepared, name: TemplateSet.Name, plan: ExperimentPlan, checkYAML: Bool = false,
        revealSecrets: Bool = false, sweepVariables: [String: any Sendable]?
    ) throws -> Artefact {
        let source = template.source
        var variables = try TemplateRenderer.variables(TemplateVariables(plan: plan, revealSecrets: revealSecrets))
        if let sweepVariables { variables["sweep"] = sweepVariables }
        let content = try renderer.render(template, with: variables)
        if checkYAML {
            do {
                try ManifestYAML.check(content)
            } catch {
                throw TemplateError.invalidOutput(
                    source: source.origin, message: "\(error)".split(separator: "\n").joined(separator: " "))
            }
        }
        return Artefact(name: name.rawValue, template: source.origin, content: content)
    }

    /// The remote workdir as the sbatch script uses it: relative paths start from the remote home
    /// (where ssh commands and sbatch run), so `~/x` is written `x`, which shell quoting keeps intact.
    static func remoteWorkdir(_ workdir: String?) -> String {
        var path = Substring(workdir ?? SlurmSettings.defaultWorkdir)
        if path == "~" { return "." }
        if path.hasPrefix("~/") { path = path.dropFirst(2) }
        while path.count > 1 && path.hasSuffix("/") { path = path.dropLast() }
        return path.isEmpty ? "." : String(path)
    }

    /// The container image as the sbatch script takes it: a URI (`docker://...`) or absolute path as
    /// written, `~/x` as `x`, which the script (like any relative path) takes from the remote home.
    static func containerImage(_ image: String) -> String {
        image.hasPrefix("~/") ? String(image.dropFirst(2)) : image
    }

    /// The registry part of an image name: `https://gcr.io/proj/` → `gcr.io/proj`.
    static func registryPrefix(_ url: String) -> String {
        var prefix = Substring(url)
        for scheme in ["https://", "http://"] where prefix.hasPrefix(scheme) {
            prefix = prefix.dropFirst(scheme.count)
        }
        while prefix.hasSuffix("/") { prefix = prefix.dropLast() }
        return String(prefix)
    }

    /// SHA-256 over the parts, each framed by its length so that no two lists hash alike.
    static func hash(_ parts: [String]) -> String {
        var hasher = SHA256()
        for part in parts {
            let bytes = Array(part.utf8)
            hasher.update(data: Array("\(bytes.count):".utf8))
            hasher.update(data: bytes)
        }
        return hasher.finalize().map { String(format: "%02x", $0) }.joined()
    }
}

/// The variables templates see; the README's "Templates" section lists them.
struct TemplateVariables: Encodable {
    struct Variable: Encodable {
        var name: String
        var value: String
    }

    struct ResourceValues: Encodable {
        var any: Bool
        var cpu: String?
        var memory: String?
        var gpu: Int?
        var tpu: Int?
    }

    struct Storage: Encodable {
        var path: String?
    }

    struct ContextSummary: Encodable {
        var name: String
        var type: String
    }

    var context: ContextSummary
    var experiment: Experiment
    var image: ImageSpec?
    var kubernetes: KubernetesTarget?
    var slurm: SlurmTarget?
    var storage: Storage
    var resources: ResourceValues
    var environment: [Variable]
    var secrets: [Variable]
    // A sweep's `sweep` variable is encoded apart, once (``SweepRendering/variables()``).

    init(plan: ExperimentPlan, revealSecrets: Bool) {
        context = ContextSummary(name: plan.context.name, type: plan.context.type.rawValue)
        experiment = plan.experiment
        image = plan.image
        kubernetes = plan.kubernetes
        slurm = plan.slurm
        storage = Storage(path: plan.storagePath)
        let resources = plan.context.resources
        self.resources = ResourceValues(
            any: !resources.isEmpty, cpu: resources.cpu, memory: resources.memory, gpu: resources.gpu,
            tpu: resources.tpu)
        environment = plan.environment.filter { !$0.secret }.map { Variable(name: $0.name, value: $0.value) }
        secrets = plan.secrets.map { Variable(name: $0.name, value: revealSecrets ? $0.value : $0.displayValue) }
    }
}
