import MrunSupport
import MrunConfig
import MrunTemplates
import MrunPlan
import MrunHistory
import KubernetesAPI
import MrunBackends

extension PlanBuilder {
    /// Plans a sweep recorded in the history again: the same id, names and points, launching only
    /// the points at `indexes` (`mrun resume`).
    public func sweep(_ request: RunRequest, resuming record: SweepRecord, indexes: Set<Int>, context: Context)
        throws -> SweepPlan
    {
        try sweep(
            request, id: record.id, points: record.points.filter { indexes.contains($0.index) },
            pointCount: record.points.count, totalPoints: record.totalPoints, seed: record.seed.flatMap { UInt64($0) },
            maxParallel: record.maxParallel, parallel: record.parallel, context: context)
    }
}
