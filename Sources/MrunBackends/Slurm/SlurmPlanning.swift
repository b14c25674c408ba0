import Foundation
import MrunSupport
import MrunConfig
import MrunTemplates
import MrunPlan
import MrunHistory
import KubernetesAPI

public struct SlurmTarget: Codable, Sendable, Equatable {
    /// Empty with `loginNode`.
    public var host: String
    /// Commands run on this machine, the login node, without ssh.
    public var loginNode: Bool
    /// Remote directory the code is shipped to: `<workdir>/<project>/<experiment>`.
    public var jobDir: String
    public var output: String
    /// Private file next to the job holding the secret variables, sourced by the script.
    public var envFile: String
    public var partition: String?
    public var account: String?
    public var qos: String?
    public var time: String?
    public var nodes: Int?
    public var ntasks: Int?
    public var cpusPerTask: Int?
    public var mem: String?
    public var gres: String?
    public var constraint: String?
    public var modules: [String]
    public var setup: [String]
    public var sbatchOptions: [String]
    /// Apptainer/Singularity image the experiment runs in.
    public var containerImage: String?
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
    func storagePath(configured: String?, project: String, host: HostEnvironment, mrunHome: URL) -> String? {
        configured
    }

    func complete(_ plan: inout ExperimentPlan, rendering: PlanRendering, sweep: SweepRendering?) throws {
        let context = plan.context
        let settings = context.slurm
        let workdir = Self.remoteWorkdir(settings.workdir)
        let jobDir =
            (workdir.hasSuffix("/") ? workdir : workdir + "/")
            + "\(plan.experiment.project)/\(plan.experiment.name)"
        plan.target = SlurmPlanTarget(
            slurm: SlurmTarget(
                host: settings.host ?? "", loginNode: settings.loginNode ?? false, jobDir: jobDir,
                output: "\(jobDir)/" + (sweep == nil ? "slurm-%j.out" : "slurm-%A_%a.out"),
                envFile: "\(jobDir)/.mrun-env", partition: settings.partition, account: settings.account,
                qos: settings.qos, time: settings.time, nodes: settings.nodes, ntasks: settings.ntasks,
                cpusPerTask: settings.cpusPerTask ?? context.resources.cpu.flatMap { Int($0) },
                mem: settings.mem ?? context.resources.memory,
                gres: settings.gres ?? context.resources.gpu.map { "gpu:\($0)" }, constraint: settings.constraint,
                modules: settings.modules, setup: settings.setup, sbatchOptions: settings.sbatchOptions,
                containerImage: settings.containerImage.map(Self.containerImage)))
        plan.experiment.contentHash = ArtefactRenderer.hash([plan.snapshot.contentHash])
        plan.artefacts = [try rendering.artefacts.render(.sbatch, plan: plan, sweep: sweep)]
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
