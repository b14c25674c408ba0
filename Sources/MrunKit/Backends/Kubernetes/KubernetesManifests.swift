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

    /// The artefact as an object of type `Object`.
    static func object<Object: KubernetesObject>(_ type: Object.Type, from artefact: Artefact) throws
        -> Converted<Object>
    {
        let json = try json(of: artefact)
        let object: Object
        do {
            object = try JSONDecoder().decode(Object.self, from: JSONEncoder().encode(json))
        } catch let error as DecodingError {
            throw KubernetesBackendError.invalidManifest(
                artefact: artefact.name, template: artefact.template, reason: "not a \(Object.kind): \(describe(error))"
            )
        }
        let sent = try JSONDecoder().decode(JSONValue.self, from: Kubernetes.encode(object))
        return Converted(object: object, dropped: droppedPaths(json, kept: sent, path: ""))
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

    static func json(of artefact: Artefact) throws -> JSONValue {
        let loaded: Any?
        do {
            loaded = try Yams.load(yaml: artefact.content)
        } catch {
            throw KubernetesBackendError.invalidManifest(
                artefact: artefact.name, template: artefact.template,
                reason: "not YAML: " + "\(error)".split(whereSeparator: \.isNewline).joined(separator: " "))
        }
        do {
            return quantitiesAsStrings(try jsonValue(loaded as Any), key: nil)
        } catch let problem as ConversionProblem {
            throw KubernetesBackendError.invalidManifest(
                artefact: artefact.name, template: artefact.template, reason: problem.reason)
        }
    }

    private struct ConversionProblem: Error {
        var reason: String
    }

    private static func jsonValue(_ value: Any) throws -> JSONValue {
        switch value {
        case is NSNull: return .null
        case let flag as Bool: return .bool(flag)
        case let integer as Int: return .integer(Int64(integer))
        case let number as Double:
            guard number.isFinite else { throw ConversionProblem(reason: "\(number) is not a JSON number") }
            return .number(number)
        case let text as String: return .string(text)
        case let date as Date: return .string(date.formatted(.iso8601))
        case let data as Data: return .string(data.base64EncodedString())
        case let items as [Any]: return .array(try items.map(jsonValue))
        case let fields as [AnyHashable: Any]:
            var object: [String: JSONValue] = [:]
            for (key, item) in fields { object["\(key.base)"] = try jsonValue(item) }
            return .object(object)
        case let fields as [String: Any]:
            return .object(try fields.mapValues(jsonValue))
        default:
            throw ConversionProblem(reason: "a value of YAML type \(type(of: value)) has no JSON form")
        }
    }

    /// Kubernetes takes quantities (`cpu: 4`, `nvidia.com/gpu: 1`) as JSON numbers or strings; the
    /// typed objects keep them as strings.
    private static func quantitiesAsStrings(_ value: JSONValue, key: String?) -> JSONValue {
        switch value {
        case .object(let fields):
            let quantities = key == "limits" || key == "requests" || key == "capacity"
            return .object(
                Dictionary(
                    uniqueKeysWithValues: fields.map { name, field in
                        switch (quantities, field) {
                        case (true, .integer(let integer)): return (name, .string(String(integer)))
                        case (true, .number(let number)):
                            return (name, .string(number.formatted(.number.grouping(.never))))
                        default: return (name, quantitiesAsStrings(field, key: name))
                        }
                    }))
        case .array(let items):
            return .array(items.map { quantitiesAsStrings($0, key: key) })
        default:
            return value
        }
    }

    /// What `source` sets that `kept` lacks; empty values and nulls do not count.
    static func droppedPaths(_ source: JSONValue, kept: JSONValue?, path: String) -> [String] {
        switch (source, kept) {
        case (.null, _), (.object([:]), _), (.array([]), _):
            return []
        case (_, nil), (_, .null?):
            return [path]
        case (.object(let fields), .object(let keptFields)?):
            return fields.keys.sorted().flatMap { key in
                droppedPaths(fields[key] ?? .null, kept: keptFields[key], path: path.isEmpty ? key : "\(path).\(key)")
            }
        case (.array(let items), .array(let keptItems)?):
            return items.indices.flatMap { index in
                droppedPaths(
                    items[index], kept: keptItems.indices.contains(index) ? keptItems[index] : nil,
                    path: "\(path)[\(index)]")
            }
        default:
            return []
        }
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
