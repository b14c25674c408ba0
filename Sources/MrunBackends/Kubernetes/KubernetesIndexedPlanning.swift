import Foundation
import MrunSupport
import MrunConfig
import MrunTemplates
import MrunPlan
import MrunHistory
import KubernetesAPI

/// A sweep as one Indexed Job (`sweep_mode: indexed`): job.yaml is rendered once for the whole
/// sweep, with `completions` the number of points and `parallelism` the sweep's `max_parallel`;
/// every pod runs mrun's point picker (`sweep-point.py`), which finds its point, by its completion
/// index, among the Job's arguments and runs the experiment with that point's name, MRUN_PARAMS and
/// arguments. The points' own plans carry no Job: they are recorded, the one Job is created.
extension KubernetesPlanner {
    /// The `sweep.indexed` template variable.
    struct IndexedSweepVariables: Encodable {
        var completions: Int
        var parallelism: Int
        /// Retries of each point (the context's `backoff_limit`), for servers from v1.29.
        var backoffLimitPerIndex: Int
        /// The Job's retries in all: enough that, on a server without per-index retries, the
        /// failures of some points never stop the others.
        var backoffLimit: Int
        /// The program that runs the picker: the context's Python.
        var python: String
        /// The picker, rendered.
        var selector: String
        /// One JSON object per point, in completion-index order: `name`, `index`, `args`, `params`.
        var points: [String]
    }

    /// One point as the picker reads it.
    struct IndexedPoint: Encodable {
        var name: String
        var index: Int
        var args: [String]
        var params: String
    }

    /// The sweep mode this plan's sweep runs in; nil for a single launch.
    static func sweepMode(of plan: ExperimentPlan, sweep: SweepRendering?) throws -> KubernetesSettings.SweepMode? {
        guard sweep != nil else { return nil }
        let mode = plan.context.kubernetes.parsedSweepMode
        if mode == .indexed && plan.shape.isGang {
            throw KubernetesBackendError.indexedGangSweep(nodes: plan.shape.nodes)
        }
        return mode
    }

    /// Renders the picker and then the sweep's one Job.
    func indexedArtefacts(_ plan: ExperimentPlan, rendering: PlanRendering, sweep: SweepRendering) throws
        -> [Artefact]
    {
        var variables = try sweep.variables()
        variables["points"] = nil
        let picker = try rendering.artefacts.render(.sweepPoint, plan: plan, sweepVariables: variables)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let points = try sweep.points.map { point in
            String(
                decoding: try encoder.encode(
                    IndexedPoint(name: point.name, index: point.index, args: point.args, params: point.params)),
                as: UTF8.self)
        }
        let perIndex = max(0, plan.context.kubernetes.backoffLimit ?? 0)
        let size = sweep.points.count
        let indexed = IndexedSweepVariables(
            completions: size, parallelism: min(size, sweep.maxParallel ?? size), backoffLimitPerIndex: perIndex,
            backoffLimit: min(Int(Int32.max), size * (perIndex + 1)), python: plan.context.pythonCommand,
            selector: picker.content, points: points)
        variables["indexed"] = try TemplateRenderer.variables(indexed)
        let job = try rendering.artefacts.render(.job, plan: plan, checkYAML: true, sweepVariables: variables)
        return [picker, job]
    }
}

extension KubernetesTarget {
    /// Whether this sweep runs as one Indexed Job.
    public var isIndexedSweep: Bool { sweepMode == KubernetesSettings.SweepMode.indexed.rawValue }
}
