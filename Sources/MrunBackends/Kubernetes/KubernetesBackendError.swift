import MrunSupport
import MrunConfig
import MrunTemplates
import MrunPlan
import MrunHistory
import KubernetesAPI

/// Failures of the Kubernetes backend and of `status`, `logs`, `cancel`, `list` on a Kubernetes
/// context, each one line. Errors of the API client itself (``KubernetesError``,
/// ``KubernetesClientError``) and of the kubeconfig pass through unchanged, or inside
/// ``incomplete(cause:present:)`` when part of a launch already exists.
public enum KubernetesBackendError: UserFacingError, Equatable {
    case notKubernetesContext(name: String, type: ContextType)
    /// A rendered artefact is not the object it should be.
    case invalidManifest(artefact: String, template: String, reason: String)
    /// The namespace is missing and the user may not create it.
    case namespaceUnavailable(namespace: String, createError: String)
    /// A launch failed after these objects were made sure of; nothing else was created.
    case incomplete(cause: String, present: [String])
    /// A Job of that name exists but this launch did not create it.
    case foreignJob(name: String, namespace: String)
    /// Some points of a sweep got no Job.
    case sweepIncomplete(created: Int, existing: Int, failed: Int, namespace: String, firstError: String)
    case unknownJob(name: String, namespace: String, searchedAllNamespaces: Bool)
    case ambiguousJob(prefix: String, namespace: String, candidates: [String])
    /// A launch's Job no longer exists (deleted, or removed by a TTL after it finished).
    case jobGone(name: String, namespace: String)
    /// A secret's value turned up in an object that is sent in clear text.
    case secretInManifest(artefact: String, variable: String)
    /// A gang's headless Service could not be created; its Job was deleted again.
    case gangService(job: String, namespace: String, cause: String)
    /// `sweep_mode: indexed` with points that are gangs.
    case indexedGangSweep(nodes: Int)
    /// One point of a sweep run as one Indexed Job cannot be stopped alone.
    case indexedPointCancel(point: String, job: String, sweep: String)

    public var description: String {
        switch self {
        case .notKubernetesContext(let name, let type):
            return "context \(quoted: name) is a \(type.rawValue) context, not a kubernetes one"
        case .invalidManifest(let artefact, let template, let reason):
            return "\(artefact) (from \(template)): \(reason); fix the template, 'mrun run --dry-run' shows it rendered"
        case .namespaceUnavailable(let namespace, let createError):
            return "namespace \"\(namespace)\" does not exist and mrun may not create it (\(createError)); ask a"
                + " cluster admin to create it, or set the context's 'namespace' key to a namespace you may use"
        case .incomplete(let cause, let present):
            guard !present.isEmpty else { return cause }
            return "\(cause) (no Job was created; these exist now and the next run reuses them: "
                + present.joined(separator: ", ") + ")"
        case .foreignJob(let name, let namespace):
            return "Job \"\(name)\" already exists in namespace \"\(namespace)\" and was not created by this launch;"
                + " delete it ('mrun cancel \(name)') or choose another --name"
        case .sweepIncomplete(let created, let existing, let failed, let namespace, let firstError):
            let done = created + existing
            return "\(failed) of \(done + failed) Jobs of the sweep could not be created in namespace \"\(namespace)\""
                + " (\(created) created, \(existing) already there); the first error: \(firstError)"
        case .unknownJob(let name, let namespace, let searchedAll):
            let elsewhere = searchedAll ? " nor in any other namespace" : ""
            return "no Job \"\(name)\" in namespace \"\(namespace)\"\(elsewhere); 'mrun list' shows the jobs there,"
                + " and NAMESPACE/JOB names a job in another namespace"
        case .ambiguousJob(let prefix, let namespace, let candidates):
            let shown = candidates.prefix(10).joined(separator: ", ")
            let more = candidates.count > 10 ? " and \(candidates.count - 10) more" : ""
            return "\(quoted: prefix) names \(candidates.count) Jobs in namespace \"\(namespace)\": \(shown)\(more);"
                + " give more of the name"
        case .jobGone(let name, let namespace):
            return "Job \"\(name)\" no longer exists in namespace \"\(namespace)\" (deleted with its pods and log);"
                + " 'mrun show' still has what was launched"
        case .secretInManifest(let artefact, let variable):
            return "\(artefact) holds the value of the secret \(variable), which must reach the experiment only"
                + " through the Secret; use secretKeyRef in the template, as the built-in one does"
        case .gangService(let job, let namespace, let cause):
            return "the headless Service of gang \"\(job)\" could not be created in namespace \"\(namespace)\""
                + " (\(cause)), so its Job was deleted again; mrun needs to create, get and delete services there"
        case .indexedGangSweep(let nodes):
            return "sweep_mode: indexed runs each point as one pod of one Indexed Job, so its points cannot be gangs"
                + " (nodes: \(nodes)); set sweep_mode: jobs (each point its own Indexed Job and Service) or run one node"
        case .indexedPointCancel(let point, let job, let sweep):
            return "point \(point) runs in the Indexed Job \(quoted: job) with the other points of sweep \(sweep),"
                + " which Kubernetes cannot stop one by one; cancel the whole sweep with 'mrun cancel --sweep \(sweep)'"
        }
    }
}
