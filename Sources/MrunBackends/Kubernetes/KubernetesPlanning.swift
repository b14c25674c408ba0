import Foundation
import MrunSupport
import MrunConfig
import MrunTemplates
import MrunPlan
import MrunHistory
import KubernetesAPI

public struct ImageSpec: Codable, Sendable, Equatable {
    public var base: String
    /// `<registry_url>/<project>/<base name>:<content hash>`.
    public var tag: String
    public var workdir: String
}

public struct KubernetesTarget: Codable, Sendable, Equatable {
    public var namespace: String
    public var claimName: String
    public var storageSize: String
    public var secretName: String
    public var backoffLimit: Int
    public var kubeContext: String?
    /// The context's scheduling keys, for job.yaml; nil when unset, so that a plan without them
    /// reads as before.
    public var queue: String?
    public var priorityClass: String?
    public var nodeSelector: [String: String]?
    public var tolerations: [KubernetesToleration]?
    /// `indexed` for a sweep run as one Indexed Job; nil otherwise (one Job per point).
    public var sweepMode: String?
}

/// The Kubernetes part of a plan: the cluster's objects and the image the Job runs.
public struct KubernetesPlanTarget: PlanTarget, Equatable {
    public var kubernetes: KubernetesTarget
    public var image: ImageSpec

    public func encodeMembers(to container: inout KeyedEncodingContainer<PlanMemberKey>) throws {
        try container.encode(image, forKey: PlanMemberKey("image"))
        try container.encode(kubernetes, forKey: PlanMemberKey("kubernetes"))
    }

    public func summaryRows(of plan: ExperimentPlan) -> [PlanRow] {
        [
            ("Image", "\(image.tag) (from \(image.base))"), ("Namespace", kubernetes.namespace),
            ("Storage", "PVC \(kubernetes.claimName), \(kubernetes.storageSize), at \(plan.storagePath ?? "")"),
        ] + (kubernetes.scheduling.map { [("Scheduling", $0)] } ?? []) + (plan.gangServiceRow.map { [$0] } ?? [])
    }

    public func sweepRows(_ sweep: SweepPlan) -> [PlanRow] {
        [
            ("At once", sweep.maxParallel.map { "at most \($0)" } ?? "as many as the cluster allows"),
            ("Image", "one for every point: \(image.tag)"),
        ]
            + (kubernetes.isIndexedSweep
                ? [
                    (
                        "Jobs",
                        "one Indexed Job \(sweep.name) (sweep_mode: indexed): a pod per point, which picks its point"
                            + " by its completion index; parallelism \(min(sweep.plans.count, sweep.maxParallel ?? sweep.plans.count))"
                    )
                ] : [])
            + (sweep.base.shape.isGang
                ? [("Services", "one headless Service per point, named and owned by its Indexed Job")] : [])
    }

    public var imageTag: String? { image.tag }
}

extension KubernetesTarget {
    /// What the dry run shows of the scheduling keys, nil when none is set:
    /// `queue team-a, priority class high, nodes pool=a100, tolerates gpu:NoSchedule`.
    var scheduling: String? {
        var parts: [String] = []
        if let queue { parts.append("queue \(queue)") }
        if let priorityClass { parts.append("priority class \(priorityClass)") }
        if let nodeSelector, !nodeSelector.isEmpty {
            parts.append(
                "nodes "
                    + nodeSelector.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))
        }
        if let tolerations, !tolerations.isEmpty {
            parts.append("tolerates " + tolerations.map(\.description).joined(separator: " "))
        }
        return parts.isEmpty ? nil : parts.joined(separator: ", ")
    }
}

extension ExperimentPlan {
    /// The plan's Kubernetes part; nil for another backend's plan.
    public var kubernetes: KubernetesTarget? {
        get { (target as? KubernetesPlanTarget)?.kubernetes }
        set {
            if var part = target as? KubernetesPlanTarget, let newValue { part.kubernetes = newValue; target = part }
        }
    }

    /// The image a Kubernetes plan's Job runs.
    public var image: ImageSpec? { (target as? KubernetesPlanTarget)?.image }
}

/// Plans Kubernetes launches: the Dockerfile (whose text is part of the content hash, so the image
/// tag), the namespace, claim, Secret and Job manifests; a sweep's points each render their Job.
struct KubernetesPlanner: BackendPlanner {
    static let imageWorkdir = "/workspace"
    static let claimName = "mrun-storage"
    static let secretName = "mrun-neptune"

    func storagePath(configured: String?, project: String, host: HostEnvironment, mrunHome: URL) -> String? {
        configured ?? KubernetesSettings.defaultStorage
    }

    func complete(_ plan: inout ExperimentPlan, rendering: PlanRendering, sweep: SweepRendering?) throws {
        let settings = plan.context.kubernetes
        let kubernetes = KubernetesTarget(
            namespace: settings.namespace ?? plan.experiment.project, claimName: Self.claimName,
            storageSize: settings.defaultPVCSize ?? KubernetesSettings.defaultPVCSize,
            secretName: Self.secretName, backoffLimit: settings.backoffLimit ?? 0,
            kubeContext: settings.kubeContext, queue: settings.queue, priorityClass: settings.priorityClass,
            nodeSelector: settings.nodeSelector,
            tolerations: settings.tolerations.map { _ in settings.parsedTolerations },
            sweepMode: try Self.sweepMode(of: plan, sweep: sweep) == .indexed ? "indexed" : nil)
        let base = rendering.request.baseImage ?? settings.baseImage ?? KubernetesSettings.defaultBaseImage
        var target = KubernetesPlanTarget(
            kubernetes: kubernetes, image: ImageSpec(base: base, tag: "", workdir: Self.imageWorkdir))
        plan.target = target
        let dockerfile = try rendering.artefacts.render(.dockerfile, plan: plan)
        plan.experiment.contentHash = ArtefactRenderer.hash([plan.snapshot.contentHash, base, dockerfile.content])
        let registry = DockerReference.registryPrefix(settings.registryURL ?? "")
        target.image.tag =
            "\(registry)/\(plan.experiment.project)/\(plan.experiment.baseName):\(plan.experiment.contentHash.prefix(24))"
        plan.target = target
        plan.artefacts.append(dockerfile)
        // A sweep's points each have their own Job, or share one Indexed Job; they share the rest.
        for name in [TemplateSet.Name.namespace, .persistentVolumeClaim, .secret, .job]
        where (name != .secret || !plan.secrets.isEmpty) && (name != .job || sweep == nil) {
            plan.artefacts.append(try rendering.artefacts.render(name, plan: plan, checkYAML: true))
        }
        if let sweep, kubernetes.sweepMode != nil {
            plan.artefacts += try indexedArtefacts(plan, rendering: rendering, sweep: sweep)
        }
    }

    func pointTemplate(_ rendering: PlanRendering) throws -> TemplateRenderer.Prepared? {
        rendering.artefacts.renderer.prepare(try rendering.artefacts.templates.source(.job))
    }

    /// Whether the sweep's points run in the one Indexed Job of the shared plan.
    func pointsShareJob(_ plan: ExperimentPlan) -> Bool { plan.kubernetes?.isIndexedSweep == true }

    func completePoint(
        _ plan: inout ExperimentPlan, rendering: PlanRendering, sweep: [String: any Sendable],
        template: TemplateRenderer.Prepared?
    ) throws {
        guard !pointsShareJob(plan) else { return }
        let job =
            try template ?? pointTemplate(rendering)
            ?? rendering.artefacts.renderer.prepare(rendering.artefacts.templates.source(.job))
        // Read as YAML here, on every core, and not again when the Job is sent.
        plan.artefacts.append(
            try rendering.artefacts.renderDocument(
                job, name: .job, plan: plan, sweepVariables: sweep, quantityKeys: KubernetesManifests.quantityKeys,
                keepsDocument: rendering.keepsDocuments))
    }
}
