import Foundation
import MrunSupport
import MrunConfig
import MrunTemplates
import MrunPlan
import MrunHistory
import KubernetesAPI

/// Turns the plan's rendered YAML artefacts into the typed objects the API client sends: YAML is
/// read with ``ManifestYAML`` (quoted scalars stay strings), turned into JSON, and decoded as the object.
///
/// Fields the typed objects do not model would be dropped silently; ``Converted/dropped`` names
/// them so the backend can say so.
enum KubernetesManifests {
    struct Converted<Object: KubernetesObject> {
        var object: Object
        /// Where the fields are that the template sets but the object cannot hold.
        var droppedSteps: [[JSONValue.Step]]
        /// Paths such as `spec.template.spec.tolerations` set by the template but not sent.
        var dropped: [String] { droppedSteps.map(KubernetesManifests.describe) }
    }

    /// The artefact as an object of type `Object`; with `findDropped`, the fields it leaves out.
    static func object<Object: KubernetesObject>(
        _ type: Object.Type, from artefact: Artefact, findDropped: Bool = true
    ) throws -> Converted<Object> {
        let tree = try json(of: artefact)
        let object: Object
        do {
            object = try JSONDecoder().decode(Object.self, from: Data(tree.jsonText.utf8))
        } catch let error as DecodingError {
            throw KubernetesBackendError.invalidManifest(
                artefact: artefact.name, template: artefact.template, reason: "not a \(Object.kind): \(describe(error))"
            )
        } catch {
            throw KubernetesBackendError.invalidManifest(
                artefact: artefact.name, template: artefact.template, reason: "no JSON form: \(error)")
        }
        guard findDropped else { return Converted(object: object, droppedSteps: []) }
        let sent = try JSONDecoder().decode(JSONValue.self, from: Kubernetes.encode(object))
        return Converted(object: object, droppedSteps: droppedPaths(tree, kept: sent))
    }

    /// The Secret with the real values of the plan's secrets, rendered from the template the plan
    /// used. Its text never leaves this function: errors do not quote it.
    static func revealedSecret(of plan: ExperimentPlan) throws -> Kubernetes.Secret? {
        guard let redacted = plan.artefact(.secret), !plan.secrets.isEmpty else { return nil }
        let rendering = ArtefactRenderer(templates: templateSet(for: redacted))
        let rendered: Artefact
        do {
            rendered = try rendering.render(.secret, plan: plan, revealSecrets: true)
        } catch {
            throw KubernetesBackendError.invalidManifest(
                artefact: redacted.name, template: redacted.template,
                reason: "it cannot be rendered with the secret values")
        }
        do {
            return try object(Kubernetes.Secret.self, from: rendered).object
        } catch {
            // The YAML parser's message may quote the text, which holds the values.
            throw KubernetesBackendError.invalidManifest(
                artefact: redacted.name, template: redacted.template,
                reason: "with the secret values filled in it is no longer a valid Secret (a value may need quoting)")
        }
    }

    /// The templates that rendered `artefact`: the file it names, else the built-in one.
    static func templateSet(for artefact: Artefact) -> TemplateSet {
        guard artefact.template.hasPrefix("/") else { return TemplateSet(searchPath: []) }
        return TemplateSet(searchPath: [URL(fileURLWithPath: artefact.template).deletingLastPathComponent()])
    }

    // MARK: - YAML to JSON

    static let quantityKeys: Set<String> = ["limits", "requests", "capacity"]

    /// The artefact's YAML as a JSON object (for a sweep's points, as the planner read it already).
    /// Kubernetes takes quantities (`cpu: 4`, `nvidia.com/gpu: 1`) as numbers or strings; the typed
    /// objects keep them as strings.
    static func json(of artefact: Artefact) throws -> JSONValue {
        let loaded: JSONValue?
        do {
            loaded = try artefact.document ?? ManifestYAML.json(artefact.content, quantityKeys: quantityKeys)
        } catch let problem as ManifestYAML.Problem {
            throw KubernetesBackendError.invalidManifest(
                artefact: artefact.name, template: artefact.template, reason: problem.reason)
        } catch {
            throw KubernetesBackendError.invalidManifest(
                artefact: artefact.name, template: artefact.template,
                reason: "not YAML: " + "\(error)".split(whereSeparator: \.isNewline).joined(separator: " "))
        }
        guard case .object = loaded else {
            throw KubernetesBackendError.invalidManifest(
                artefact: artefact.name, template: artefact.template, reason: "not a mapping of fields")
        }
        return loaded ?? .null
    }

    /// What `source` sets that `kept` lacks; empty values and nulls do not count.
    static func droppedPaths(_ source: JSONValue, kept: JSONValue?) -> [[JSONValue.Step]] {
        var found: [[JSONValue.Step]] = []
        var path: [JSONValue.Step] = []
        collectDropped(source, kept: kept, path: &path, into: &found)
        return found
    }

    private static func collectDropped(
        _ source: JSONValue, kept: JSONValue?, path: inout [JSONValue.Step], into found: inout [[JSONValue.Step]]
    ) {
        switch source {
        case .null:
            return
        case .object(let fields):
            guard !fields.isEmpty else { return }
            guard case .object(let keptFields) = kept else { return found.append(path) }
            for key in fields.keys.sorted() {
                path.append(.field(key))
                collectDropped(fields[key] ?? .null, kept: keptFields[key], path: &path, into: &found)
                path.removeLast()
            }
        case .array(let items):
            guard !items.isEmpty else { return }
            guard case .array(let keptItems) = kept else { return found.append(path) }
            for index in items.indices {
                path.append(.item(index))
                collectDropped(
                    items[index], kept: keptItems.indices.contains(index) ? keptItems[index] : nil, path: &path,
                    into: &found)
                path.removeLast()
            }
        default:
            if kept == nil || kept == .null { found.append(path) }
        }
    }

    /// `spec.template.spec.tolerations[0].key`, as the warning names a dropped field.
    static func describe(_ path: [JSONValue.Step]) -> String {
        var text = ""
        for step in path {
            switch step {
            case .field(let name): text += text.isEmpty ? name : ".\(name)"
            case .item(let index): text += "[\(index)]"
            }
        }
        return text
    }

    /// `codingPath: message`, without the values of the document.
    private static func describe(_ error: DecodingError) -> String {
        let (context, problem): (DecodingError.Context, String)
        switch error {
        case .typeMismatch(let type, let errorContext): (context, problem) = (errorContext, "expected \(type)")
        case .valueNotFound(let type, let errorContext): (context, problem) = (errorContext, "missing \(type)")
        case .keyNotFound(let key, let errorContext):
            (context, problem) = (errorContext, "missing field \(quoted: key.stringValue)")
        case .dataCorrupted(let errorContext): (context, problem) = (errorContext, errorContext.debugDescription)
        @unknown default: return "\(error)"
        }
        let path = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
        return path.isEmpty ? problem : "\(path.hasPrefix(".") ? String(path.dropFirst()) : path): \(problem)"
    }
}
