import Foundation
import MrunSupport
import MrunConfig
import MrunTemplates
import MrunPlan
import MrunHistory
import KubernetesAPI

/// Where an ssh launch goes: the hosts it may run on and the directory it gets on each, read by
/// the templates as `ssh.*`. The host and GPUs are chosen when it is launched, from what the hosts
/// report then.
public struct SSHTarget: Encodable, Sendable, Equatable {
    public var hosts: [String]
    /// The context's workdir as the remote commands take it, relative to the remote home.
    public var workdir: String
    /// `<workdir>/<project>/<experiment>`; each host gets a directory of its own in it.
    public var experimentDir: String
    public var setup: [String]
    /// `gpus: auto`: ask nvidia-smi on each host.
    public var detectGpus: Bool
    /// `gpus` as listed (empty with `auto` or `0`).
    public var gpus: [Int]
    public var maxPerHost: Int
    /// GPUs each point holds: `resources.gpu`, else 1 on GPU hosts.
    public var gpusPerPoint: Int
    /// `--skip-unreachable`: hosts ssh cannot reach (or log in to) are left out, not fatal.
    public var skipUnreachable = false

    /// The directory of `host` (as the context lists it) inside ``experimentDir``: hosts that
    /// share a home (an NFS home, or two aliases of one machine) must not share a directory.
    public func hostDir(_ host: String) -> String {
        "\(experimentDir)/\(Self.label(host))"
    }

    /// The directory where every runner on `host` claims GPUs and places (`ssh-runner.sh`), shared
    /// by the launches of every experiment under the workdir; `home` is the remote home.
    public func claimsDir(_ host: String, home: String) -> String {
        let base = workdir.hasPrefix("/") ? workdir : "\(home)/\(workdir)"
        return "\(base)/.mrun-claims/\(Self.label(host))"
    }

    /// `host` as one safe path component.
    public static func label(_ host: String) -> String {
        String(host.map { $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) ? $0 : "_" })
    }
}

/// The ssh part of a plan.
public struct SSHPlanTarget: PlanTarget, Equatable {
    public var ssh: SSHTarget

    public func encodeMembers(to container: inout KeyedEncodingContainer<PlanMemberKey>) throws {
        try container.encode(ssh, forKey: PlanMemberKey("ssh"))
    }

    public func summaryRows(of plan: ExperimentPlan) -> [PlanRow] {
        let gpus =
            ssh.detectGpus
            ? "auto (nvidia-smi on each host; free: no mrun point holds it, memory under"
                + " \(GPUUsage.busyMemoryPercent)% used)"
            : ssh.gpus.isEmpty
                ? "none (at most \(ssh.maxPerHost) at once per host)"
                : ssh.gpus.map(String.init).joined(separator: ", ")
        var rows: [PlanRow] = [
            ("Hosts", ssh.hosts.joined(separator: ", ")), ("GPUs", gpus),
            ("Host dir", ssh.hostDir("HOST") + " (relative to the remote home)"),
        ]
        for (index, step) in SSHBackend.steps(ssh).enumerated() {
            rows.append((index == 0 ? "Steps" : "", "\(index + 1). \(step)"))
        }
        return rows
    }

    public func sweepRows(_ sweep: SweepPlan) -> [PlanRow] {
        [
            (
                "At once",
                "one point per free slot (\(ssh.gpusPerPoint) GPU(s) each, or max_per_host without GPUs),"
                    + " shared with every other mrun launch on the host"
            ),
            ("Submission", "points spread over the hosts in proportion to their slots; each host's runner queues them"),
        ]
    }

    public var directory: String? { ssh.experimentDir }
}

extension ExperimentPlan {
    /// The plan's ssh part; nil for another backend's plan.
    public var ssh: SSHTarget? { (target as? SSHPlanTarget)?.ssh }
}

/// Plans ssh launches: the directory under the remote workdir, the host check, the run script
/// (one per point of a sweep) and the host's runner.
struct SSHPlanner: BackendPlanner {
    func shape(of context: Context) -> JobShape { .single }

    func storagePath(configured: String?, project: String, host: HostEnvironment, mrunHome: URL) -> String? {
        configured
    }

    /// Without a storage, the workdir on each host (relative to the remote home).
    func outputBase(storage: String?, context: Context) -> String? {
        storage ?? SlurmPlanner.remoteWorkdir(context.ssh.workdir)
    }

    func complete(_ plan: inout ExperimentPlan, rendering: PlanRendering, sweep: SweepRendering?) throws {
        let settings = plan.context.ssh
        let workdir = SlurmPlanner.remoteWorkdir(settings.workdir)
        let gpus: [Int]
        if case .indexes(let listed) = settings.gpuChoice { gpus = listed } else { gpus = [] }
        plan.target = SSHPlanTarget(
            ssh: SSHTarget(
                hosts: settings.hosts, workdir: workdir,
                experimentDir: "\(workdir)/\(plan.experiment.project)/\(plan.experiment.name)", setup: settings.setup,
                detectGpus: settings.gpuChoice == .detect, gpus: gpus,
                maxPerHost: settings.maxPerHost ?? SSHSettings.defaultMaxPerHost,
                gpusPerPoint: max(plan.context.resources.gpu ?? 1, 1),
                skipUnreachable: rendering.request.skipUnreachable ?? false))
        plan.experiment.contentHash = ArtefactRenderer.hash([plan.snapshot.contentHash])
        plan.artefacts.append(try rendering.artefacts.render(.sshProbe, plan: plan))
        // The runner tells a sweep's end on its host: it sees the sweep, not its points.
        var sweepVariables = try sweep?.variables()
        sweepVariables?["points"] = nil
        plan.artefacts.append(try rendering.artefacts.render(.sshRunner, plan: plan, sweepVariables: sweepVariables))
        plan.artefacts.append(try rendering.artefacts.render(.sshStart, plan: plan))
        if sweep == nil { plan.artefacts.append(try rendering.artefacts.render(.sshRun, plan: plan)) }
    }

    func pointTemplate(_ rendering: PlanRendering) throws -> TemplateRenderer.Prepared? {
        try rendering.artefacts.renderer.prepare(rendering.artefacts.templates.source(.sshRun))
    }

    /// A point keeps the shared plan's directory (the code goes there once per host) and gets its
    /// own run script.
    func completePoint(
        _ plan: inout ExperimentPlan, rendering: PlanRendering, sweep: [String: any Sendable],
        template: TemplateRenderer.Prepared?
    ) throws {
        guard let template else { return }
        plan.artefacts.removeAll { $0.name == TemplateSet.Name.sshRun.rawValue }
        plan.artefacts.append(
            try rendering.artefacts.render(template, name: .sshRun, plan: plan, sweepVariables: sweep))
    }
}
