import Foundation
import MrunSupport
import MrunPlan
import KubernetesAPI

/// A sweep point's Job as it is sent: a typed Job (a gang's, whose Service needs the created Job)
/// or the JSON document the planner read from the point's YAML.
///
/// A document is sent as it is, with what mrun adds (namespace, labels, request id, the pinned
/// image, the launch id) set in it: converting hundreds of Jobs to typed objects and back was most
/// of mrun's own work per point. The first point is still converted to the typed Job, which checks
/// the template's output and finds the fields a Job cannot hold; those are left out of every
/// point's document, as the typed object would leave them out.
enum SweepJob: Sendable {
    case typed(Kubernetes.Job)
    case document(JSONValue)

    var name: String? {
        switch self {
        case .typed(let job): job.metadata.name
        case .document(let document): document[[.field("metadata"), .field("name")]]?.string
        }
    }

    var requestID: String? {
        switch self {
        case .typed(let job): job.metadata.annotations?[KubernetesClient.requestIDAnnotation]
        case .document(let document):
            document[[.field("metadata"), .field("annotations"), .field(KubernetesClient.requestIDAnnotation)]]?.string
        }
    }

    /// Makes the containers that run the plan's image tag run `image` (the tag pinned to the
    /// pushed digest), as ``KubernetesBackend/pin(_:plan:image:)`` does.
    mutating func pin(plan: ExperimentPlan, image: String) {
        switch self {
        case .typed(var job):
            KubernetesBackend.pin(&job, plan: plan, image: image)
            self = .typed(job)
        case .document(var document):
            guard let tag = plan.image?.tag else { return }
            Self.updateContainers(of: &document) { container in
                guard container[[.field("image")]]?.string == tag else { return }
                container.update([.field("image")]) { $0 = .string(image) }
            }
            self = .document(document)
        }
    }

    /// Gives every container the launch id, as ``KubernetesBackend/tell(_:launch:)`` does.
    mutating func tell(_ launch: EnvironmentVariable) {
        switch self {
        case .typed(var job):
            KubernetesBackend.tell(&job, launch: launch)
            self = .typed(job)
        case .document(var document):
            let variable = JSONValue.object(["name": .string(launch.name), "value": .string(launch.value)])
            Self.updateContainers(of: &document) { container in
                container.update([.field("env")]) { env in
                    if case .array(let items) = env {
                        env = .array(items + [variable])
                    } else {
                        env = .array([variable])
                    }
                }
            }
            self = .document(document)
        }
    }

    private static let containers: [JSONValue.Step] = [
        .field("spec"), .field("template"), .field("spec"), .field("containers"),
    ]

    private static func updateContainers(of document: inout JSONValue, _ change: (inout JSONValue) -> Void) {
        guard case .array(let items) = document[containers] else { return }
        for index in items.indices {
            document.update((containers + [.item(index)])[...], change)
        }
    }
}

extension KubernetesBackend {
    /// A point's Job as its document with mrun's additions, without the fields at `dropping`.
    func jobDocument(
        of plan: ExperimentPlan, labels: [String: String], requestID: String, dropping: [[JSONValue.Step]]
    ) throws -> JSONValue {
        let artefact = try jobArtefact(of: plan)
        var document = try KubernetesManifests.json(of: artefact)
        // Last first, so that removing an item does not move the next one to remove.
        for path in dropping.reversed() { document.remove(path[...]) }
        if let namespace = plan.kubernetes?.namespace {
            document.update([.field("metadata"), .field("namespace")]) { $0 = .string(namespace) }
        } else {
            document.remove([.field("metadata"), .field("namespace")])
        }
        let adding = labels.mapValues(JSONValue.string)
        document.update([.field("metadata"), .field("labels")]) { $0 = Self.merged($0, adding) }
        if document[[.field("spec"), .field("template")]] != nil {
            document.update([.field("spec"), .field("template"), .field("metadata"), .field("labels")]) {
                $0 = Self.merged($0, adding)
            }
        }
        document.update([.field("metadata"), .field("annotations"), .field(KubernetesClient.requestIDAnnotation)]) {
            $0 = .string(requestID)
        }
        return document
    }

    private static func merged(_ value: JSONValue, _ adding: [String: JSONValue]) -> JSONValue {
        guard case .object(let fields) = value else { return .object(adding) }
        return .object(fields.merging(adding) { $1 })
    }
}
