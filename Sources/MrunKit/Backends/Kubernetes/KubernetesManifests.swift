import Foundation
import Yams

/// Turns the plan's rendered YAML artefacts into the typed objects the API client sends: YAML is
/// read with Yams (quoted scalars stay strings), turned into JSON, and decoded as the object.
///
/// Fields the typed objects do not model would be dropped silently; ``Converted/dropped`` names
/// them so the backend can say so.
enum KubernetesManifests {
    struct Converted<Object: KubernetesObject> {
        var object: Object
        /// Paths such as `spec.template.spec.tolerations` set by the template but not sent.
        var dropped: [String]
    }

    /// The artefact as an object of type `Object`; with `findDropped`, the fields it leaves out.
    static func object<Object: KubernetesObject>(
        _ type: Object.Type, from artefact: Artefact, findDropped: Bool = true
    ) throws -> Converted<Object> {
        let tree = try json(of: artefact)
        let object: Object
        do {
            let data = try JSONSerialization.data(withJSONObject: tree)
            object = try JSONDecoder().decode(Object.self, from: data)
        } catch let error as DecodingError {
            throw KubernetesBackendError.invalidManifest(
                artefact: artefact.name, template: artefact.template, reason: "not a \(Object.kind): \(describe(error))"
            )
        } catch {
            throw KubernetesBackendError.invalidManifest(
                artefact: artefact.name, template: artefact.template, reason: "no JSON form: \(error)")
        }
        guard findDropped else { return Converted(object: object, dropped: []) }
        let sent = try JSONSerialization.jsonObject(with: Kubernetes.encode(object))
        return Converted(object: object, dropped: droppedPaths(tree, kept: sent, path: ""))
    }

    /// The Secret with the real values of the plan's secrets, rendered from the template the plan
    /// used. Its text never leaves this function: errors do not quote it.
    static func revealedSecret(of plan: ExperimentPlan) throws -> Kubernetes.Secret? {
        guard let redacted = plan.artefact(.secret), !plan.secrets.isEmpty else { return nil }
        let rendering = PlanRendering(
            templates: templateSet(for: redacted), request: RunRequest(script: plan.experiment.script),
            runsDirectory: URL(fileURLWithPath: NSTemporaryDirectory()))
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

    /// The artefact's YAML as a JSON object tree (dictionaries, arrays, strings, numbers, booleans,
    /// NSNull), the form `JSONSerialization` writes.
    static func json(of artefact: Artefact) throws -> Any {
        let loaded: Any?
        do {
            loaded = try Yams.load(yaml: artefact.content)
        } catch {
            throw KubernetesBackendError.invalidManifest(
                artefact: artefact.name, template: artefact.template,
                reason: "not YAML: " + "\(error)".split(whereSeparator: \.isNewline).joined(separator: " "))
        }
        do {
            let tree = try jsonTree(loaded ?? NSNull(), key: nil)
            guard tree is [String: Any] else { throw ConversionProblem(reason: "not a mapping of fields") }
            return tree
        } catch let problem as ConversionProblem {
            throw KubernetesBackendError.invalidManifest(
                artefact: artefact.name, template: artefact.template, reason: problem.reason)
        }
    }

    private struct ConversionProblem: Error {
        var reason: String
    }

    /// Yams' values as JSON's. Kubernetes takes quantities (`cpu: 4`, `nvidia.com/gpu: 1`) as
    /// numbers or strings; the typed objects keep them as strings.
    private static func jsonTree(_ value: Any, key: String?) throws -> Any {
        let quantities = key == "limits" || key == "requests" || key == "capacity"
        switch value {
        case is NSNull, is Bool, is String, is Int:
            return value
        case let number as Double:
            guard number.isFinite else { throw ConversionProblem(reason: "\(number) is not a JSON number") }
            return number
        case let date as Date: return date.formatted(.iso8601)
        case let data as Data: return data.base64EncodedString()
        case let items as [Any]: return try items.map { try jsonTree($0, key: key) }
        case let fields as [AnyHashable: Any]:
            var object: [String: Any] = [:]
            for (name, item) in fields {
                let name = "\(name.base)"
                switch (quantities, item) {
                case (true, let integer as Int): object[name] = String(integer)
                case (true, let number as Double): object[name] = number.formatted(.number.grouping(.never))
                default: object[name] = try jsonTree(item, key: name)
                }
            }
            return object
        default:
            throw ConversionProblem(reason: "a value of YAML type \(type(of: value)) has no JSON form")
        }
    }

    /// What `source` sets that `kept` lacks; empty values and nulls do not count.
    static func droppedPaths(_ source: Any, kept: Any?, path: String) -> [String] {
        if source is NSNull { return [] }
        if let fields = source as? [String: Any] {
            guard !fields.isEmpty else { return [] }
            guard let keptFields = kept as? [String: Any] else { return [path] }
            return fields.keys.sorted().flatMap { key in
                droppedPaths(
                    fields[key] ?? NSNull(), kept: keptFields[key], path: path.isEmpty ? key : "\(path).\(key)")
            }
        }
        if let items = source as? [Any] {
            guard !items.isEmpty else { return [] }
            guard let keptItems = kept as? [Any] else { return [path] }
            return items.indices.flatMap { index in
                droppedPaths(
                    items[index], kept: keptItems.indices.contains(index) ? keptItems[index] : nil,
                    path: "\(path)[\(index)]")
            }
        }
        return kept == nil || kept is NSNull ? [path] : []
    }

    /// `codingPath: message`, without the values of the document.
    private static func describe(_ error: DecodingError) -> String {
        let (context, problem): (DecodingError.Context, String)
        switch error {
        case .typeMismatch(let type, let errorContext): (context, problem) = (errorContext, "expected \(type)")
        case .valueNotFound(let type, let errorContext): (context, problem) = (errorContext, "missing \(type)")
        case .keyNotFound(let key, let errorContext):
            (context, problem) = (errorContext, "missing field '\(key.stringValue)'")
        case .dataCorrupted(let errorContext): (context, problem) = (errorContext, errorContext.debugDescription)
        @unknown default: return "\(error)"
        }
        let path = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
        return path.isEmpty ? problem : "\(path.hasPrefix(".") ? String(path.dropFirst()) : path): \(problem)"
    }
}
