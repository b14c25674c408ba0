import Foundation
import MrunSupport
import MrunConfig
import MrunTemplates

/// A sweep planned but for its points' own plans: what a backend needs to set up what the points
/// share (the namespace, claim and Secret; the image) while the points are planned on every core.
///
/// The first point is planned at once, so a template that fails for every point fails before
/// anything runs; ``plans()`` plans the rest.
public struct SweepPlanning: @unchecked Sendable {
    /// The sweep with the first point's plan only (all points' plans once ``plans()`` returned).
    public var outline: SweepPlan
    fileprivate var planning: PointPlanning
    fileprivate var rest: [SweepRendering.Point]

    /// The plan the points share.
    public var base: ExperimentPlan { outline.base }

    /// The whole sweep: every point planned, on a thread of its own (planning blocks its threads).
    public func plans() async throws -> SweepPlan {
        guard !rest.isEmpty else { return outline }
        let planning = self.planning
        let rest = self.rest
        let planned: [ExperimentPlan] = try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread { continuation.resume(with: Result { try planning.plans(of: rest) }) }
        }
        var sweep = outline
        sweep.plans += planned
        return sweep
    }

    /// The whole sweep, planned on this thread and the other cores.
    public func plannedNow() throws -> SweepPlan {
        var sweep = outline
        sweep.plans += try planning.plans(of: rest)
        return sweep
    }
}

extension PlanBuilder {
    /// Plans the sweep `spec` of the experiment `request` asks for. Reads the same files as
    /// ``plan(_:context:)`` and, like it, runs and writes nothing.
    public func sweep(_ request: RunRequest, spec: SweepSpec, context: Context) throws -> SweepPlan {
        try sweepPlanning(request, spec: spec, context: context).plannedNow()
    }

    /// ``sweep(_:spec:context:)`` with the points after the first left to ``SweepPlanning/plans()``.
    public func sweepPlanning(_ request: RunRequest, spec requested: SweepSpec, context: Context) throws
        -> SweepPlanning
    {
        var spec = requested
        if spec.shuffle && spec.seed == nil { spec.seed = randomSeed() }
        let points = try spec.expand()
        return try sweepPlanning(
            request, id: suffix(), points: points, pointCount: points.count, totalPoints: spec.totalPoints ?? 0,
            seed: spec.shuffle ? spec.seed : nil, maxParallel: spec.maxParallel, parallel: spec.parallel ?? 1,
            context: context)
    }

    /// Plans a sweep of one point with these parameters: a sweep's point launched again (`mrun rerun`).
    public func sweep(_ request: RunRequest, point parameters: [SweepPoint.Parameter], context: Context) throws
        -> SweepPlan
    {
        try sweep(
            request, id: suffix(), points: [SweepPoint(index: 0, parameters: parameters)], pointCount: 1,
            totalPoints: 1, seed: nil, maxParallel: nil, parallel: 1, context: context)
    }

    package func sweep(
        _ request: RunRequest, id: String, points: [SweepPoint], pointCount: Int, totalPoints: Int, seed: UInt64?,
        maxParallel: Int?, parallel: Int, context: Context
    ) throws -> SweepPlan {
        try sweepPlanning(
            request, id: id, points: points, pointCount: pointCount, totalPoints: totalPoints, seed: seed,
            maxParallel: maxParallel, parallel: parallel, context: context
        ).plannedNow()
    }

    package func sweepPlanning(
        _ request: RunRequest, id: String, points: [SweepPoint], pointCount: Int, totalPoints: Int, seed: UInt64?,
        maxParallel: Int?, parallel: Int, context: Context
    ) throws -> SweepPlanning {
        let prepared = try prepare(
            request, context: context, suffix: id,
            sweep: SweepInput(points: points, maxParallel: maxParallel, pointCount: pointCount))
        PhaseProfile.mark("planned what the points share")
        guard let rendering = prepared.sweep else {
            throw ExperimentError.planMismatch(type: context.type, issue: "the sweep was not planned")
        }
        // Encoded once, without the points: each point's Job sees its own point (`sweep.point`),
        // never the whole list, which Stencil would convert again for every lookup of `sweep`.
        var shared = rendering
        shared.points = []
        var variables = try shared.variables()
        variables["points"] = nil
        let template = try prepared.planner.pointTemplate(prepared.rendering)
        PhaseProfile.mark("parsed the points' template")
        let planning = PointPlanning(builder: self, prepared: prepared, sweep: variables, template: template)
        let first = try rendering.points.first.map { try planning.plans(of: [$0]) } ?? []
        let outline = SweepPlan(
            id: rendering.id, base: prepared.plan, points: points, plans: first, totalPoints: totalPoints, seed: seed,
            maxParallel: maxParallel, parallel: parallel)
        return SweepPlanning(outline: outline, planning: planning, rest: Array(rendering.points.dropFirst()))
    }

    /// The plan of one point: the shared plan under the point's name, with its arguments appended
    /// and its `MRUN_PARAMS`.
    func pointPlan(
        _ prepared: Prepared, point: SweepRendering.Point, sweep: [String: any Sendable],
        template: TemplateRenderer.Prepared? = nil
    ) throws -> ExperimentPlan {
        var plan = prepared.plan
        plan.experiment.name = point.name
        plan.experiment.args += point.args
        plan.experiment.argv += point.args
        plan.experiment.commandLine = plan.experiment.argv.map(TemplateFilters.shellQuote).joined(separator: " ")
        plan.experiment.parameters = point.params
        plan.environment.set("MRUN_EXPERIMENT", to: point.name, after: [])
        plan.environment.set("MRUN_PARAMS", to: point.params, after: ["STORAGE_DIR", "PYTHONUNBUFFERED"])
        if let output = plan.environment.first(where: { $0.name == OutputDirectory.variable }) {
            plan.environment.set(
                OutputDirectory.variable, to: OutputDirectory.renamed(output.value, to: point.name), after: [])
        }
        var own = sweep
        own["index"] = point.index
        own["point"] = try TemplateRenderer.variables(point)
        try prepared.planner.completePoint(&plan, rendering: prepared.rendering, sweep: own, template: template)
        return plan
    }
}

/// The points' plans, on every core: each renders its own Job (a few hundred microseconds a
/// point), and a 1000-point sweep on one core leaves the others idle while they wait for it.
///
/// `@unchecked Sendable`: the shared plan, the sweep's variables and the parsed template are only
/// read while rendering (Stencil's nodes and environment hold no per-render state; each render
/// makes its own context), and each point's plan is written to its own slot.
private struct PointPlanning: @unchecked Sendable {
    var builder: PlanBuilder
    var prepared: PlanBuilder.Prepared
    var sweep: [String: any Sendable]
    var template: TemplateRenderer.Prepared?

    /// Below this many points a second thread costs more than it saves.
    static let pointsPerThread = 16

    func plans(of points: [SweepRendering.Point]) throws -> [ExperimentPlan] {
        let threads = min(ProcessInfo.processInfo.activeProcessorCount, points.count / Self.pointsPerThread)
        guard threads > 1 else {
            return try points.map { try builder.pointPlan(prepared, point: $0, sweep: sweep, template: template) }
        }
        let results = Slots<Result<ExperimentPlan, any Error>>(count: points.count)
        // Interleaved, so that each thread gets a share of any slow stretch of points.
        DispatchQueue.concurrentPerform(iterations: threads) { thread in
            for offset in stride(from: thread, to: points.count, by: threads) {
                results[offset] = Result {
                    try builder.pointPlan(prepared, point: points[offset], sweep: sweep, template: template)
                }
            }
        }
        // The first point's error, as one thread would have met it.
        let unplanned = ExperimentError.planMismatch(type: prepared.plan.context.type, issue: "a point was not planned")
        return try results.values.map { try ($0 ?? .failure(unplanned)).get() }
    }
}

/// Slots written by several threads, each slot by one. Raw memory, not an array property: a
/// class's stored array would be checked for exclusive access on every write, from any thread.
private final class Slots<Value>: @unchecked Sendable {
    private let storage: UnsafeMutableBufferPointer<Value?>

    init(count: Int) {
        storage = .allocate(capacity: count)
        storage.initialize(repeating: nil)
    }

    deinit {
        storage.deinitialize()
        storage.deallocate()
    }

    subscript(offset: Int) -> Value? {
        get { storage[offset] }
        set { storage[offset] = newValue }
    }

    var values: [Value?] { Array(storage) }
}
