import Foundation
import MrunSupport
import MrunConfig
import MrunTemplates

/// The plan as people read it (`--dry-run`) and as programs read it (`--output json`). Secret
/// values appear redacted in both: `EnvironmentVariable` never encodes or prints them.
public enum PlanPrinter {
    public static func json(_ plan: ExperimentPlan) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.dateEncodingStrategy = .iso8601
        return String(decoding: try encoder.encode(plan), as: UTF8.self) + "\n"
    }

    public static func text(_ plan: ExperimentPlan) -> String {
        let experiment = plan.experiment
        var lines: [String] = []
        func row(_ label: String, _ value: String) {
            lines.append(label.padding(toLength: 13, withPad: " ", startingAt: 0) + value)
        }
        row("Experiment", "\(experiment.name) (project \(experiment.project))")
        row("Context", "\(plan.context.name) (\(plan.context.type.rawValue))")
        row("Command", experiment.commandLine)
        if plan.shape.isGang { row("Gang", plan.shape.summary) }
        let size = ByteCountFormatter.string(fromByteCount: Int64(plan.snapshot.totalBytes), countStyle: .file)
        row("Code", "\(plan.snapshot.files.count) files, \(size), from \(plan.snapshot.root)")
        let generated = plan.snapshot.generatedFiles.count
        if generated > 0 {
            row("mrunner", "mrun's compatibility module shipped with the code (\(generated) files under mrunner/):")
            lines.append(String(repeating: " ", count: 13) + "get_configuration() returns the point's MRUN_PARAMS")
        }
        row("Content hash", experiment.contentHash)
        if let requirements = experiment.requirements {
            row("Requirements", requirements + (plan.target.requirementsNote.map { " (\($0))" } ?? ""))
        }
        if !experiment.tags.isEmpty { row("Tags", experiment.tags.joined(separator: ", ")) }
        if !plan.context.resources.isEmpty { row("Resources", plan.context.resources.description) }
        for (label, value) in plan.target.summaryRows(of: plan) { row(label, value) }
        lines.append("Environment:")
        for variable in plan.environment {
            lines.append("  \(variable.name)=\(variable.displayValue)\(variable.secret ? "  (secret)" : "")")
        }
        lines.append("Files:")
        for file in plan.snapshot.files {
            lines.append("  \(file.path)\(file.executable ? "*" : "")\(file.content != nil ? "  (added by mrun)" : "")")
        }
        for artefact in plan.artefacts {
            lines.append("--- \(artefact.name) (\(artefact.template))")
            lines.append(artefact.content.hasSuffix("\n") ? String(artefact.content.dropLast()) : artefact.content)
        }
        lines.append("--- dry run: nothing was built, submitted or run")
        return lines.joined(separator: "\n") + "\n"
    }
}
