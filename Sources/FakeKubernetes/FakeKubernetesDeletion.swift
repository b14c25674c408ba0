import Foundation

import KubernetesAPI
import MrunSupport

/// Deletion with the propagation kube-apiserver applies (fixtures 46, 68, 70, 71), and the
/// garbage collector's work: an owner's dependents (objects whose `ownerReferences` name its uid:
/// a Job's pods, a gang's Service) go with it unless it is deleted with Orphan propagation, which
/// a batch/v1 Job without a policy is. The real collector does this asynchronously, within about
/// a second (fixture 49); the fake does it at once.
extension FakeKubernetesCluster {
    package func delete<Object: FakeStorable>(
        _ type: Object.Type, namespace: String?, name: String, policy: Kubernetes.PropagationPolicy?
    ) throws(FakeAPIError) -> FakeHTTPResponse {
        var object = try get(type, namespace: namespace, name: name)
        remove(object)
        // Jobs alone keep their old default of orphaning; every other kind defaults to Background.
        let orphaning = policy == .orphan || (policy == nil && Object.self == Kubernetes.Job.self)
        collectDependents(of: object, orphaning: orphaning)
        if Object.self == Kubernetes.Service.self {
            // The service registry returns the object as it was stored, with no deletion mark.
            return .json(200, object)
        }
        object.metadata.deletionTimestamp = Self.timestamp()
        object.metadata.deletionGracePeriodSeconds = 0
        if let job = object as? Kubernetes.Job {
            if policy == .background {
                return .json(
                    200,
                    Kubernetes.Status(
                        status: "Success",
                        details: .init(name: name, group: Object.group, kind: Object.resource, uid: job.metadata.uid)))
            }
            object.metadata.generation = (object.metadata.generation ?? 1) + 1
            object.metadata.finalizers = [orphaning ? "orphan" : "foregroundDeletion"]
            let warning =
                policy == nil
                ? [
                    "299 - \"child pods are preserved by default when jobs are deleted; set propagationPolicy=Background"
                        + " to remove them or set propagationPolicy=Orphan to suppress this warning\""
                ] : []
            return .json(200, object, warnings: warning)
        }
        if Object.self == Kubernetes.Secret.self {
            return .json(
                200,
                Kubernetes.Status(
                    status: "Success",
                    details: .init(name: name, group: nil, kind: Object.resource, uid: object.metadata.uid)))
        }
        return .json(200, object)
    }

    /// Every stored object of the owner's namespace whose ownerReferences name `owner`'s uid:
    /// removed (and theirs after them), or, when orphaning, kept without that reference.
    package func collectDependents(of owner: some FakeStorable, orphaning: Bool) {
        guard let uid = owner.metadata.uid else { return }
        for dependent in dependents(ofUID: uid, namespace: owner.metadata.namespace) {
            if orphaning {
                orphan(dependent, from: uid)
            } else {
                remove(dependent)
                collectDependents(of: dependent, orphaning: false)
            }
        }
    }

    /// The collector deletes an object all of whose owners are gone: one created with references to
    /// no stored object (a wrong uid, an owner deleted meanwhile) does not survive.
    package func collectIfOwnersAreGone(_ object: some FakeStorable) {
        guard let references = object.metadata.ownerReferences, !references.isEmpty else { return }
        let namespace = object.metadata.namespace ?? ""
        let present = references.contains { reference in
            objects.contains { key, stored in
                stored.metadata.uid == reference.uid && (key.namespace == namespace || key.namespace.isEmpty)
            }
        }
        if !present {
            remove(object)
            collectDependents(of: object, orphaning: false)
        }
    }

    private func dependents(ofUID uid: String, namespace: String?) -> [any FakeStorable] {
        objects.filter { key, object in
            key.namespace == (namespace ?? "") && (object.metadata.ownerReferences?.contains { $0.uid == uid } ?? false)
        }
        .sorted { $0.key < $1.key }
        .map(\.value)
    }

    private func orphan<Object: FakeStorable>(_ dependent: Object, from uid: String) {
        var dependent = dependent
        let remaining = dependent.metadata.ownerReferences?.filter { $0.uid != uid } ?? []
        dependent.metadata.ownerReferences = remaining.isEmpty ? nil : remaining
        dependent.apiVersion = Object.apiVersion
        dependent.kind = Object.kind
        update(dependent)
    }
}
