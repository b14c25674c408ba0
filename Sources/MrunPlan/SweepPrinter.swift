import Foundation
import MrunSupport
import MrunConfig
import MrunTemplates

/// A sweep as `--dry-run` shows it: its points (index, name, parameters), then the whole plan of
/// the first point, artefacts included. The other points differ only in name, arguments and
/// `MRUN_PARAMS`. Secrets stay redacted, as in ``PlanPrinter``.
public enum SweepPrinter {
    /// The line a launch starts with, naming the sweep id.
    public static func announcement(_ sweep: SweepPlan) -> String {
        let count = sweep.points.count
        let indexes = sweep.points.map(\.index)
        let first = Naming.pointName(sweep: sweep.name, index: indexes.first ?? 0)
        let names: String
        if count <= 1 {
            names = first
        } else if indexes == Array(indexes[0]..<(indexes[0] + count)) {
            names = "\(first) … \(Naming.pointName(sweep: sweep.name, index: indexes[count - 1]))"
        } else {
            names = indexes.map { Naming.pointName(sweep: sweep.name, index: $0) }.joined(separator: ", ")
        }
        var line = "Sweep \(sweep.id): \(count) point\(count == 1 ? "" : "s") (\(names))"
        if let seed = sweep.seed { line += ", shuffled with --seed \(seed)" }
        return line + "\n"
    }

    public static func text(_ sweep: SweepPlan) -> String {
        var lines: [String] = []
        func row(_ label: String, _ value: String) {
            lines.append(label.padding(toLength: 13, withPad: " ", startingAt: 0) + value)
        }
        let count = sweep.points.count
        var summary = "\(sweep.id): \(count) point\(count == 1 ? "" : "s")"
        if count != sweep.totalPoints { summary += " of \(sweep.totalPoints) (--limit)" }
        row("Sweep", summary)
        if let seed = sweep.seed { row("Order", "shuffled with --seed \(seed)") }
        for (label, value) in sweep.base.target.sweepRows(sweep) { row(label, value) }
        lines.append("Points:")
        let width = String(max(count - 1, 0)).count
        let nameWidth = sweep.plans.map(\.experiment.name.count).max() ?? 0
        for (point, plan) in zip(sweep.points, sweep.plans) {
            let index = String(repeating: " ", count: width - String(point.index).count) + String(point.index)
            let name = plan.experiment.name.padding(toLength: nameWidth, withPad: " ", startingAt: 0)
            let parameters = point.parameters.map { "\($0.name)=\(TemplateFilters.shellQuote($0.value.text))" }
            lines.append("  \(index)  \(name)  \(parameters.joined(separator: " "))")
        }
        if let first = sweep.plans.first {
            lines.append("--- point 0 (the others differ in name, arguments and MRUN_PARAMS)")
            lines.append(PlanPrinter.text(first).trimmingCharacters(in: .newlines))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The sweep and its points, then the first point's plan under `plan`.
    public static func json(_ sweep: SweepPlan) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.dateEncodingStrategy = .iso8601
        return String(decoding: try encoder.encode(Summary(sweep)), as: UTF8.self) + "\n"
    }

    struct Summary: Encodable {
        struct Parameter: Encodable {
            var name: String
            var value: String
        }

        struct Point: Encodable {
            var index: Int
            var name: String
            var parameters: [Parameter]
            /// Appended after the experiment's own arguments.
            var args: [String]
            /// `MRUN_PARAMS`.
            var params: String
        }

        var id: String
        var name: String
        var count: Int
        var totalPoints: Int
        var seed: UInt64?
        var maxParallel: Int?
        var parallel: Int
        var points: [Point]
        var plan: ExperimentPlan?

        init(_ sweep: SweepPlan) {
            id = sweep.id
            name = sweep.name
            count = sweep.points.count
            totalPoints = sweep.totalPoints
            seed = sweep.seed
            maxParallel = sweep.maxParallel
            parallel = sweep.parallel
            points = zip(sweep.points, sweep.plans).map { point, plan in
                Point(
                    index: point.index, name: plan.experiment.name,
                    parameters: point.parameters.map { Parameter(name: $0.name, value: $0.value.text) },
                    args: point.arguments, params: plan.experiment.parameters ?? point.json)
            }
            plan = sweep.plans.first
        }
    }
}
