import Foundation
import MrunSupport
import MrunConfig
import MrunTemplates
import MrunPlan
import MrunHistory
import KubernetesAPI

/// A gang on Kubernetes: job.yaml makes its Job Indexed (one pod per node, each running mrun's
/// starter with its node rank from `JOB_COMPLETION_INDEX`), and the backend adds a headless Service
/// named as the Job, selecting its pods, so that the pod of index 0 resolves as `<job>-0.<job>`
/// (the gang's MASTER_ADDR). The Service is owned by the Job: deleting the Job deletes it.
extension KubernetesBackend {
    /// The label the Job controller puts on a Job's pods; the Service selects on it.
    static let jobNameLabel = "job-name"

    /// The headless Service of `job` (as the server stored it, with its uid) when `plan` is a gang.
    static func gangService(for job: Kubernetes.Job, plan: ExperimentPlan) -> Kubernetes.Service? {
        guard plan.shape.isGang, let name = job.metadata.name else { return nil }
        return Kubernetes.Service.headless(
            name: name, selector: [jobNameLabel: name],
            ports: [Kubernetes.ServicePort(name: "master", port: plan.shape.masterPort)],
            labels: job.metadata.labels, owner: Kubernetes.OwnerReference(controller: job))
    }

    /// Creates the gang's Service for `job`; one that exists already (an earlier identical
    /// submission) counts as present. When it cannot be created the Job is deleted again, since its
    /// pods could not find rank 0, and the error says so.
    static func ensureGangService(
        for job: Kubernetes.Job, plan: ExperimentPlan, client: KubernetesClient, namespace: String
    ) async throws {
        guard let service = gangService(for: job, plan: plan) else { return }
        let name = job.metadata.name ?? ""
        do {
            guard service.metadata.ownerReferences?.isEmpty == false else {
                throw KubernetesBackendError.gangService(
                    job: name, namespace: namespace, cause: "the server gave the Job no uid")
            }
            _ = try await client.createService(service, namespace: namespace)
        } catch let error as KubernetesError where error.reason == .alreadyExists {
            return
        } catch {
            _ = try? await client.deleteJob(name, namespace: namespace, propagationPolicy: .background)
            if error is KubernetesBackendError { throw error }
            throw KubernetesBackendError.gangService(job: name, namespace: namespace, cause: "\(error)")
        }
    }
}

extension ExperimentPlan {
    /// The dry run's line for a gang's Service: what the backend creates beside the Job.
    var gangServiceRow: PlanRow? {
        guard shape.isGang else { return nil }
        let name = experiment.name
        return (
            "Service",
            "headless \(name), owned by the Job, for its \(shape.nodes) pods; rank 0 at \(name)-0.\(name):\(shape.masterPort)"
        )
    }
}
