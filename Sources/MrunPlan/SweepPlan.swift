import Foundation
import MrunSupport
import MrunConfig
import MrunTemplates

/// A whole sweep, planned: the plan its points share (one code snapshot, one image, one Slurm job
/// directory and array script) and, per point, the plan of the experiment it runs (its name, its
/// arguments, its `MRUN_PARAMS`).
public struct SweepPlan: Sendable {
    /// Short id of this launch, in every point's name (`<base>-<id>-<index>`).
    public var id: String
    /// What the points share, named `<base>-<id>`. Its arguments and Dockerfile hold no point's
    /// parameters, so one image serves them all.
    public var base: ExperimentPlan
    public var points: [SweepPoint]
    /// One plan per point, in the order of `points`.
    public var plans: [ExperimentPlan]
    /// Points the grid and zip make before `--limit`.
    public var totalPoints: Int
    /// The shuffle's seed, when shuffled.
    public var seed: UInt64?
    /// Clusters: how many points run at once (nil: as many as the cluster allows).
    public var maxParallel: Int?
    /// Local contexts: how many points run at once on this machine.
    public var parallel: Int

    public var name: String { base.experiment.name }
}

/// What a sweep asks of the plan shared by its points.
struct SweepInput {
    /// The points to launch: all of them, or those a resumed sweep still lacks.
    var points: [SweepPoint]
    var maxParallel: Int?
    /// All points of the sweep, which the name is shortened for.
    var pointCount: Int
}

/// The `sweep` variable of the templates: the array script lists every point; a point's own
/// artefacts (its Kubernetes Job) see `index` and their own `point`, not the list.
package struct SweepRendering: Encodable, Sendable {
    package struct Point: Encodable {
        package var index: Int
        package var name: String
        /// The point's own arguments, appended after the experiment's.
        package var args: [String]
        /// The point's `MRUN_PARAMS`: the Neptune config's parameters, then the point's.
        package var params: String
        var parameters: [SweepPoint.Parameter]
    }

    package var id: String
    var name: String
    /// The number of points (`count` would be Stencil's count of this mapping's keys).
    package var size: Int
    package var maxParallel: Int?
    /// Slurm's `--array` value: `0-11`, or `0-11%4` with a limit on tasks at once.
    var array: String
    package var points: [Point]
    /// Set while rendering one point's own artefacts.
    var index: Int?

    init(id: String, name: String, input: SweepInput, neptune: [(name: String, json: String)]) {
        self.id = id
        self.name = name
        size = input.points.count
        maxParallel = input.maxParallel
        array = Self.ranges(input.points.map(\.index)) + (input.maxParallel.map { "%\($0)" } ?? "")
        points = input.points.map { point in
            let own = Set(point.parameters.map(\.name))
            let members = neptune.filter { !own.contains($0.name) } + point.parameters.map { ($0.name, $0.value.json) }
            return Point(
                index: point.index, name: Naming.pointName(sweep: name, index: point.index), args: point.arguments,
                params: SweepPoint.json(members), parameters: point.parameters)
        }
    }

    /// The template variable, encoded once for every artefact of the sweep (a point's sets `index`).
    package func variables() throws -> [String: any Sendable] {
        try TemplateRenderer.variables(self)
    }

    /// Slurm's `--array` list of task indexes: `0-11`, or `2,5-7` for some of them.
    static func ranges(_ indexes: [Int]) -> String {
        var parts: [String] = []
        var index = 0
        let sorted = indexes.sorted()
        while index < sorted.count {
            var end = index
            while end + 1 < sorted.count && sorted[end + 1] == sorted[end] + 1 { end += 1 }
            parts.append(end == index ? "\(sorted[index])" : "\(sorted[index])-\(sorted[end])")
            index = end + 1
        }
        return parts.isEmpty ? "0-0" : parts.joined(separator: ",")
    }
}

extension PlanBuilder {
    /// Plans the sweep `spec` of the experiment `request` asks for. Reads the same files as
    /// ``plan(_:context:)`` and, like it, runs and writes nothing.
    public func sweep(_ request: RunRequest, spec requested: SweepSpec, context: Context) throws -> SweepPlan {
        var spec = requested
        if spec.shuffle && spec.seed == nil { spec.seed = randomSeed() }
        let points = try spec.expand()
        return try sweep(
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
        let prepared = try prepare(
            request, context: context, suffix: id,
            sweep: SweepInput(points: points, maxParallel: maxParallel, pointCount: pointCount))
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
        let plans = try PointPlanning(builder: self, prepared: prepared, sweep: variables, template: template)
            .plans(of: rendering.points)
        return SweepPlan(
            id: rendering.id, base: prepared.plan, points: points, plans: plans, totalPoints: totalPoints, seed: seed,
            maxParallel: maxParallel, parallel: parallel)
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

extension [EnvironmentVariable] {
    /// Sets `name`'s value where it is, or adds it after the first of `anchors` present (else first).
    mutating func set(_ name: String, to value: String, after anchors: [String]) {
        if let index = firstIndex(where: { $0.name == name }) {
            self[index].value = value
            return
        }
        let names = map(\.name)
        let position = anchors.compactMap { anchor in names.firstIndex(of: anchor) }.first
        insert(EnvironmentVariable(name: name, value: value), at: position.map { $0 + 1 } ?? 0)
    }
}
