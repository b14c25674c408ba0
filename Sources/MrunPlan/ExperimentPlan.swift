import Foundation
import MrunSupport
import MrunConfig
import MrunTemplates

/// Everything `mrun run` will do, fully rendered and nothing executed: the resolved context, the
/// experiment, the code to ship, the environment and every artefact. `--dry-run` prints it; a
/// backend executes it.
public struct ExperimentPlan: Encodable, Sendable {
    public var context: Context
    public var experiment: Experiment
    public var snapshot: CodeSnapshot
    /// Every variable the experiment gets, secrets included (they encode and print redacted).
    public var environment: [EnvironmentVariable]
    public var storagePath: String?
    /// The backend's own part, defined by the backend that executes the plan.
    public var target: any PlanTarget
    public var artefacts: [Artefact]
    /// One process, or a gang the backend starts together.
    public var shape: JobShape = .single

    public var secrets: [EnvironmentVariable] { environment.filter(\.secret) }

    public func artefact(_ name: TemplateSet.Name) -> Artefact? {
        artefacts.first { $0.name == name.rawValue }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: PlanMemberKey.self)
        try container.encode(context, forKey: PlanMemberKey("context"))
        try container.encode(experiment, forKey: PlanMemberKey("experiment"))
        try container.encode(snapshot, forKey: PlanMemberKey("snapshot"))
        try container.encode(environment, forKey: PlanMemberKey("environment"))
        try container.encodeIfPresent(storagePath, forKey: PlanMemberKey("storagePath"))
        if shape.isGang { try container.encode(shape, forKey: PlanMemberKey("gang")) }
        try target.encodeMembers(to: &container)
        try container.encode(artefacts, forKey: PlanMemberKey("artefacts"))
    }
}

public struct Experiment: Codable, Sendable, Equatable {
    /// Unique name of this launch, e.g. `train-k3x9q`: the Job name, the run directory.
    public var name: String
    /// Stable name from `--name` or the script, e.g. `train`: the image name.
    public var baseName: String
    public var project: String
    public var script: String
    public var args: [String]
    public var tags: [String]
    public var requirements: String?
    public var python: String
    /// The program and its first arguments: `[python3, train.py]`, or `[./train.py]` for an
    /// executable script with a shebang line.
    public var command: [String]
    /// `command` followed by `args`.
    public var argv: [String]
    /// `argv` as a shell would read it, for display.
    public var commandLine: String
    /// Neptune experiment parameters from `--config`, as JSON (also `MRUN_PARAMS`).
    public var parameters: String?
    /// SHA-256 over the code, requirements, base image and Dockerfile; the image tag.
    public var contentHash: String
    public var created: Date
}

/// A rendered file: what it is, which template made it, and its text.
public struct Artefact: Codable, Sendable, Equatable {
    public var name: String
    public var template: String
    public var content: String
    /// The content as JSON, when the planner read it as YAML already (a sweep point's Job), so
    /// that the backend does not read it again. Not part of the plan's JSON, nor of equality.
    package var document: JSONValue?

    package init(name: String, template: String, content: String, document: JSONValue? = nil) {
        self.name = name
        self.template = template
        self.content = content
        self.document = document
    }

    private enum CodingKeys: String, CodingKey {
        case name, template, content
    }

    public static func == (lhs: Artefact, rhs: Artefact) -> Bool {
        lhs.name == rhs.name && lhs.template == rhs.template && lhs.content == rhs.content
    }
}

extension ExperimentPlan {
    /// Whether the job itself tells the context's webhooks when it ends: it has the secret
    /// variable ``jobNotifySettings(for:)`` made.
    public var notifiesFromJob: Bool { environment.contains { $0.name == "MRUN_NOTIFY" && $0.secret } }

    /// The secret variable `MRUN_NOTIFY` the job's notifier reads (its webhooks and events), when
    /// the job tells them: a backend whose jobs do (`notifier`), a context with webhook targets
    /// that does not send from here.
    static func jobNotifySettings(for context: Context, notifier: EndNotifier) -> EnvironmentVariable? {
        guard notifier == .job, context.notifyFrom != "here" else { return nil }
        let webhooks = context.notifyTargets.compactMap { target -> String? in
            if case .webhook(let url) = target { return url.absoluteString }
            return nil
        }
        guard !webhooks.isEmpty else { return nil }
        let settings: [String: [String]] = [
            "targets": webhooks, "events": context.notifyEvents.map(\.rawValue).sorted(),
        ]
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let json = try? encoder.encode(settings) else { return nil }
        return EnvironmentVariable(name: "MRUN_NOTIFY", value: String(decoding: json, as: UTF8.self), secret: true)
    }
}
