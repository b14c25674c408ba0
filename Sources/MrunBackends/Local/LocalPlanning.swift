import Foundation
import MrunSupport
import MrunConfig
import MrunTemplates
import MrunPlan
import MrunHistory
import KubernetesAPI

public struct LocalTarget: Codable, Sendable, Equatable {
    /// Fresh directory holding the code copy, `plan.json` and `output.log`.
    public var runDirectory: String
    public var logFile: String

    public init(runDirectory: String, logFile: String) {
        self.runDirectory = runDirectory
        self.logFile = logFile
    }
}

/// The local part of a plan: the run directory on this machine.
public struct LocalPlanTarget: PlanTarget, Equatable {
    public var local: LocalTarget

    public func encodeMembers(to container: inout KeyedEncodingContainer<PlanMemberKey>) throws {
        try container.encode(local, forKey: PlanMemberKey("local"))
    }

    public func summaryRows(of plan: ExperimentPlan) -> [PlanRow] {
        [("Run dir", local.runDirectory), ("Log", local.logFile)]
    }

    public func sweepRows(_ sweep: SweepPlan) -> [PlanRow] {
        [
            (
                "At once",
                sweep.parallel == SweepSpec.perGPU
                    ? "one point per free GPU (--parallel auto)"
                    : sweep.parallel <= 1 ? "1 (one after another)" : "\(sweep.parallel) (--parallel)"
            )
        ]
    }

    // A local run uses the Python environment mrun runs in; it does not pip-install into it.
    public var requirementsNote: String? { "not installed for local runs" }
    public var directory: String? { local.runDirectory }
}

extension ExperimentPlan {
    /// The plan's local part; nil for another backend's plan.
    public var local: LocalTarget? {
        get { (target as? LocalPlanTarget)?.local }
        set { target = newValue.map { LocalPlanTarget(local: $0) } ?? target }
    }
}

/// Plans runs on this machine: each launch, a sweep's point too, gets its own run directory.
struct LocalPlanner: BackendPlanner {
    var endNotifier: EndNotifier { .thisProcess }

    func storagePath(configured: String?, project: String, host: HostEnvironment, mrunHome: URL) -> String? {
        configured.map { host.resolve($0).path } ?? mrunHome.appendingPathComponent("storage/\(project)").path
    }

    /// The default storage is the project's own already (`$MRUN_HOME/storage/PROJECT`): outputs
    /// go beside it, under `$MRUN_HOME/storage`, not in a second directory of the project.
    func outputBase(storage: String?, context: Context) -> String? {
        guard let storage else { return nil }
        return context.storage == nil ? (storage as NSString).deletingLastPathComponent : storage
    }

    func complete(_ plan: inout ExperimentPlan, rendering: PlanRendering, sweep: SweepRendering?) throws {
        setRunDirectory(&plan, rendering: rendering)
        if plan.shape.isGang {
            // This machine is the gang's one node; the starter gives each process its rank.
            plan.environment += [
                EnvironmentVariable(name: "MASTER_ADDR", value: "127.0.0.1"),
                EnvironmentVariable(name: "MASTER_PORT", value: String(plan.shape.masterPort)),
                EnvironmentVariable(name: "NNODES", value: "1"),
                EnvironmentVariable(name: "NODE_RANK", value: "0"),
            ]
            if !plan.context.gpus.isEmpty {
                plan.environment.append(
                    EnvironmentVariable(name: "MRUN_GPUS", value: plan.context.gpus.joined(separator: ",")))
            }
        }
        plan.experiment.contentHash = ArtefactRenderer.hash([plan.snapshot.contentHash])
    }

    func completePoint(
        _ plan: inout ExperimentPlan, rendering: PlanRendering, sweep: [String: any Sendable],
        template: TemplateRenderer.Prepared?
    ) throws {
        setRunDirectory(&plan, rendering: rendering)
    }

    private func setRunDirectory(_ plan: inout ExperimentPlan, rendering: PlanRendering) {
        let runDirectory = rendering.runsDirectory.appendingPathComponent(plan.experiment.name)
        plan.target = LocalPlanTarget(
            local: LocalTarget(
                runDirectory: runDirectory.path, logFile: runDirectory.appendingPathComponent("output.log").path))
    }
}
