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
