import Crypto
import Foundation
import MrunSupport
import MrunConfig
import MrunTemplates

/// What a backend's planner completes a plan with: the artefact renderer and the request's own
/// inputs.
package struct PlanRendering: Sendable {
    package var artefacts: ArtefactRenderer
    package var request: RunRequest
    /// Where local runs get their directories (`$MRUN_HOME/runs`).
    package var runsDirectory: URL
    /// ``PlanBuilder/keepsDocuments``.
    package var keepsDocuments = true
}

/// Renders a plan's artefacts from the templates; secrets appear redacted unless the backend,
/// executing the plan, asks for their values.
package struct ArtefactRenderer: Sendable {
    package var templates: TemplateSet
    package var renderer = TemplateRenderer()

    package init(templates: TemplateSet) {
        self.templates = templates
    }

    /// Renders one template; secrets appear redacted unless `revealSecrets` (only when executing).
    package func render(
        _ name: TemplateSet.Name, plan: ExperimentPlan, checkYAML: Bool = false, revealSecrets: Bool = false,
        sweep: SweepRendering? = nil
    ) throws -> Artefact {
        try render(
            name, plan: plan, checkYAML: checkYAML, revealSecrets: revealSecrets,
            sweepVariables: try sweep.map { try $0.variables() })
    }

    /// Renders one template with the `sweep` variable already encoded.
    package func render(
        _ name: TemplateSet.Name, plan: ExperimentPlan, checkYAML: Bool = false, revealSecrets: Bool = false,
        sweepVariables: [String: any Sendable]?
    ) throws -> Artefact {
        try render(
            renderer.prepare(templates.source(name)), name: name, plan: plan, checkYAML: checkYAML,
            revealSecrets: revealSecrets, sweepVariables: sweepVariables)
    }

    /// Renders `name` from its template, tokenized already.
    package func render(
        _ template: TemplateRenderer.Prepared, name: TemplateSet.Name, plan: ExperimentPlan, checkYAML: Bool = false,
        revealSecrets: Bool = false, sweepVariables: [String: any Sendable]?
    ) throws -> Artefact {
        let source = template.source
        var variables = try TemplateRenderer.variables(TemplateVariables(plan: plan, revealSecrets: revealSecrets))
        if let sweepVariables { variables["sweep"] = sweepVariables }
        let content = try renderer.render(template, with: variables)
        if checkYAML { try check(content, source: source) }
        return Artefact(name: name.rawValue, template: source.origin, content: content)
    }

    /// Renders a manifest and reads it as YAML once: the check of ``render(_:name:plan:checkYAML:revealSecrets:sweepVariables:)``
    /// that also keeps the document (`quantityKeys` as ``ManifestYAML/json(_:quantityKeys:)``).
    /// A document JSON cannot hold is kept unread, for the backend to report as it does any
    /// manifest it cannot send.
    package func renderDocument(
        _ template: TemplateRenderer.Prepared, name: TemplateSet.Name, plan: ExperimentPlan,
        sweepVariables: [String: any Sendable]?, quantityKeys: Set<String>, keepsDocument: Bool = true
    ) throws -> Artefact {
        var artefact = try render(template, name: name, plan: plan, sweepVariables: sweepVariables)
        guard keepsDocument else {
            try check(artefact.content, source: template.source)
            return artefact
        }
        do {
            artefact.document = try ManifestYAML.json(artefact.content, quantityKeys: quantityKeys)
        } catch is ManifestYAML.Problem {
            artefact.document = nil
        } catch {
            throw Self.invalidYAML(error, source: template.source)
        }
        return artefact
    }

    private func check(_ content: String, source: TemplateSet.Source) throws {
        do {
            try ManifestYAML.check(content)
        } catch {
            throw Self.invalidYAML(error, source: source)
        }
    }

    private static func invalidYAML(_ error: any Error, source: TemplateSet.Source) -> TemplateError {
        TemplateError.invalidOutput(
            source: source.origin, message: "\(error)".split(separator: "\n").joined(separator: " "))
    }

    /// SHA-256 over the parts, each framed by its length so that no two lists hash alike.
    package static func hash(_ parts: [String]) -> String {
        var hasher = SHA256()
        for part in parts {
            let bytes = Array(part.utf8)
            hasher.update(data: Array("\(bytes.count):".utf8))
            hasher.update(data: bytes)
        }
        return HexEncoding.hex(hasher.finalize())
    }
}

/// The variables templates see; the README's "Templates" section lists them.
struct TemplateVariables: Encodable {
    struct Variable: Encodable {
        var name: String
        var value: String
    }

    struct ResourceValues: Encodable {
        var any: Bool
        var cpu: String?
        var memory: String?
        var gpu: Int?
        var tpu: Int?
    }

    /// The storage (`path`, STORAGE_DIR) and the launch's output directory in it (`output`,
    /// MRUN_OUTPUT_DIR; `output_sub_path`, the part under `path`).
    struct Storage: Encodable {
        var path: String?
        var output: String?
        var outputSubPath: String?
    }

    /// A gang's variables (only for one): its shape, the command its starter runs for each rank,
    /// and the starter's text once rendered (`gang.script`).
    struct Gang: Encodable {
        var nodes: Int
        var procsPerNode: Int
        var tasksPerNode: Int
        var launcher: String
        var masterPort: Int
        var worldSize: Int
        var command: [String]
        var script: String?
        /// The program that runs the starter: the context's Python.
        var python: String
    }

    struct Notify: Encodable {
        var script: String
        var python: String
    }

    struct ContextSummary: Encodable {
        var name: String
        var type: String
    }

    var context: ContextSummary
    var experiment: Experiment
    var target: any PlanTarget
    var storage: Storage
    var resources: ResourceValues
    var environment: [Variable]
    var secrets: [Variable]
    var gang: Gang?
    /// The job's notifier, when the job tells the context's webhooks itself.
    var notify: Notify?
    // A sweep's `sweep` variable is encoded apart, once (``SweepRendering/variables()``).

    init(plan: ExperimentPlan, revealSecrets: Bool) {
        context = ContextSummary(name: plan.context.name, type: plan.context.type.rawValue)
        experiment = plan.experiment
        target = plan.target
        let output = plan.environment.first { $0.name == OutputDirectory.variable }?.value
        storage = Storage(
            path: plan.storagePath, output: output,
            outputSubPath: OutputDirectory.subPath(project: plan.experiment.project, name: plan.experiment.name))
        let resources = plan.context.resources
        self.resources = ResourceValues(
            any: !resources.isEmpty, cpu: resources.cpu, memory: resources.memory, gpu: resources.gpu,
            tpu: resources.tpu)
        environment = plan.environment.filter { !$0.secret }.map { Variable(name: $0.name, value: $0.value) }
        secrets = plan.secrets.map { Variable(name: $0.name, value: revealSecrets ? $0.value : $0.displayValue) }
        let shape = plan.shape
        gang =
            shape.isGang
            ? Gang(
                nodes: shape.nodes, procsPerNode: shape.procsPerNode, tasksPerNode: shape.tasksPerNode,
                launcher: shape.launcher.rawValue, masterPort: shape.masterPort, worldSize: shape.worldSize,
                command: plan.experiment.command, script: plan.artefact(.gang)?.content,
                python: plan.context.pythonCommand) : nil
        notify = plan.artefact(.notify).map { Notify(script: $0.content, python: plan.context.pythonCommand) }
    }

    /// The backend's members (`kubernetes`, `slurm`…) sit beside the common ones, as in the plan's JSON.
    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: PlanMemberKey.self)
        try container.encode(context, forKey: PlanMemberKey("context"))
        try container.encode(experiment, forKey: PlanMemberKey("experiment"))
        try target.encodeMembers(to: &container)
        try container.encode(storage, forKey: PlanMemberKey("storage"))
        try container.encode(resources, forKey: PlanMemberKey("resources"))
        try container.encode(environment, forKey: PlanMemberKey("environment"))
        try container.encode(secrets, forKey: PlanMemberKey("secrets"))
        try container.encodeIfPresent(gang, forKey: PlanMemberKey("gang"))
        try container.encodeIfPresent(notify, forKey: PlanMemberKey("notify"))
    }
}
