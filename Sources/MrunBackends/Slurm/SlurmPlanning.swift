import Foundation
import MrunSupport
import MrunConfig
import MrunTemplates
import MrunPlan
import MrunHistory
import KubernetesAPI

/// Where a Slurm launch goes and what it is submitted with (the context's options as planned:
/// resources filled in, paths as the script takes them), read as members: `slurm.partition`.
@dynamicMemberLookup
public struct SlurmTarget: Encodable, Sendable, Equatable {
    /// Empty with `loginNode`.
    public var host: String
    /// Commands run on this machine, the login node, without ssh.
    public var loginNode: Bool
    /// Remote directory the code is shipped to: `<workdir>/<project>/<experiment>`.
    public var jobDir: String
    public var output: String
    /// Private file next to the job holding the secret variables, sourced by the script.
    public var envFile: String
    /// `--nodes`: the gang's, or the context's `nodes` as sbatch takes it.
    public var nodes: Int?
    public var job: SlurmJobOptions

    public init(
        host: String, loginNode: Bool, jobDir: String, output: String, envFile: String, nodes: Int?,
        job: SlurmJobOptions
    ) {
        self.host = host
        self.loginNode = loginNode
        self.jobDir = jobDir
        self.output = output
        self.envFile = envFile
        self.nodes = nodes
        self.job = job
    }

    public subscript<Value>(dynamicMember option: WritableKeyPath<SlurmJobOptions, Value>) -> Value {
        get { job[keyPath: option] }
        set { job[keyPath: option] = newValue }
    }

    private enum CodingKeys: String, CodingKey {
        case host, loginNode, jobDir, output, envFile, nodes
    }

    // One flat object in the plan's JSON and the templates' variables: `slurm.partition`.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(host, forKey: .host)
        try container.encode(loginNode, forKey: .loginNode)
        try container.encode(jobDir, forKey: .jobDir)
        try container.encode(output, forKey: .output)
        try container.encode(envFile, forKey: .envFile)
        try container.encodeIfPresent(nodes, forKey: .nodes)
        try job.encode(to: encoder)
    }
}

/// The Slurm part of a plan: where the code goes and the sbatch options.
public struct SlurmPlanTarget: PlanTarget, Equatable {
    public var slurm: SlurmTarget

    public func encodeMembers(to container: inout KeyedEncodingContainer<PlanMemberKey>) throws {
        try container.encode(slurm, forKey: PlanMemberKey("slurm"))
    }

    public func summaryRows(of plan: ExperimentPlan) -> [PlanRow] {
        var rows: [PlanRow] = [
            ("Host", slurm.loginNode ? "\(LocalShell.displayName) (login_node)" : slurm.host),
            ("Job dir", slurm.jobDir), ("Output", slurm.output),
        ]
        if let image = slurm.containerImage { rows.append(("Container", "\(image) (apptainer, else singularity)")) }
        for (index, step) in SlurmBackend.steps(slurm).enumerated() {
            rows.append((index == 0 ? "Steps" : "", "\(index + 1). \(step)"))
        }
        return rows
    }

    public func sweepRows(_ sweep: SweepPlan) -> [PlanRow] {
        let array = "0-\(max(sweep.points.count - 1, 0))" + (sweep.maxParallel.map { "%\($0)" } ?? "")
        return [
            ("At once", sweep.maxParallel.map { "at most \($0)" } ?? "as many as Slurm allows"),
            ("Submission", "one job array, --array=\(array); code shipped once to \(slurm.jobDir)"),
        ]
    }

    public var directory: String? { slurm.jobDir }
}

extension ExperimentPlan {
    /// The plan's Slurm part; nil for another backend's plan.
    public var slurm: SlurmTarget? { (target as? SlurmPlanTarget)?.slurm }
}

/// Plans Slurm launches: the job directory under the remote workdir and the sbatch script (for a
/// sweep, one array script that picks each task's point).
struct SlurmPlanner: BackendPlanner {
    /// mrunner's keys keep sbatch's meaning: `nodes` and `ntasks` alone are passed to sbatch and
    /// the command runs once, as before gangs. `procs_per_node` or `launcher` makes a gang, whose
    /// `--ntasks-per-node` replaces `ntasks`.
    func shape(of context: Context) -> JobShape {
        context.gang.procsPerNode == nil && context.gang.launcher == nil ? .single : JobShape(context)
    }

    func storagePath(configured: String?, project: String, host: HostEnvironment, mrunHome: URL) -> String? {
        configured
    }

    /// Without a storage, the workdir (relative to the remote home, as the job directory is).
    func outputBase(storage: String?, context: Context) -> String? {
        storage ?? Self.remoteWorkdir(context.slurm.workdir)
    }

    func complete(_ plan: inout ExperimentPlan, rendering: PlanRendering, sweep: SweepRendering?) throws {
        let context = plan.context
        let settings = context.slurm
        let workdir = Self.remoteWorkdir(settings.workdir)
        let jobDir =
            (workdir.hasSuffix("/") ? workdir : workdir + "/")
            + "\(plan.experiment.project)/\(plan.experiment.name)"
        var job = settings.job
        if plan.shape.isGang { job.ntasks = nil }
        job.cpusPerTask = job.cpusPerTask ?? context.resources.cpu.flatMap { Int($0) }
        job.mem = job.mem ?? context.resources.memory
        job.gres = job.gres ?? context.resources.gpu.map { "gpu:\($0)" }
        job.containerImage = job.containerImage.map(Self.containerImage)
        plan.target = SlurmPlanTarget(
            slurm: SlurmTarget(
                host: settings.host ?? "", loginNode: settings.loginNode ?? false, jobDir: jobDir,
                output: "\(jobDir)/" + (sweep == nil ? "slurm-%j.out" : "slurm-%A_%a.out"),
                envFile: "\(jobDir)/.mrun-env", nodes: plan.shape.isGang ? plan.shape.nodes : context.gang.nodes,
                job: job))
        plan.experiment.contentHash = ArtefactRenderer.hash([plan.snapshot.contentHash])
        plan.artefacts.append(try rendering.artefacts.render(.sbatch, plan: plan, sweep: sweep))
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

}
