import Foundation
import Testing

@testable import MrunKit
@testable import KubernetesAPI
@testable import MrunBackends
@testable import MrunConfig
@testable import MrunHistory
@testable import MrunPlan
@testable import MrunSupport
@testable import MrunTemplates

/// The manifests of a 2 x 4 GPU gang with every scheduling key, and of a sweep run as one Indexed
/// Job, byte for byte: what a cluster admin reviews must not change unnoticed.
@Suite struct GangGoldenTests {
    static var gangContext: Context {
        var context = PlanFixture.kubernetes
        context.resources = Resources(cpu: "8", memory: "32G", gpu: 4)
        context.gang.nodes = 2
        context.kubernetes.queue = "team-a"
        context.kubernetes.priorityClass = "high-priority"
        context.kubernetes.nodeSelector = ["cloud.google.com/gke-nodepool": "a100"]
        context.kubernetes.tolerations = ["nvidia.com/gpu:NoSchedule", "spot=true:NoExecute:300"]
        return context
    }

    @Test func aTwoByFourGPUGangsJobAndService() throws {
        let fixture = try PlanFixture()
        let plan = try fixture.builder().plan(PlanFixture.request, context: Self.gangContext)
        #expect(plan.shape.isGang && plan.shape.procsPerNode == 4 && plan.shape.worldSize == 8)
        let job = try #require(plan.artefact(.job))
        try Golden.check(job.content, "kubernetes-gang-job.yaml")
        var object = try KubernetesManifests.object(Kubernetes.Job.self, from: job).object
        object.metadata.uid = "00000000-0000-0000-0000-000000000001"
        let service = try #require(KubernetesBackend.gangService(for: object, plan: plan))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes, .sortedKeys, .prettyPrinted]
        let json = String(decoding: try encoder.encode(service), as: UTF8.self)
        try Golden.check(json + "\n", "kubernetes-gang-service.json")
    }

    @Test func aSweepAsOneIndexedJob() throws {
        let fixture = try PlanFixture()
        var context = PlanFixture.kubernetes
        context.kubernetes.sweepMode = "indexed"
        context.kubernetes.backoffLimit = 1
        let spec = try SweepPlanTests.spec(grid: ["lr=0.1,0.01", "seed=1,2"], maxParallel: 3)
        let sweep = try fixture.builder().sweep(PlanFixture.request, spec: spec, context: context)
        try Golden.check(try #require(sweep.base.artefact(.job)).content, "kubernetes-indexed-sweep-job.yaml")
        let manifest = try #require(sweep.base.artefact(.job)).content
        #expect(manifest.contains("  backoffLimit: 8\n  backoffLimitPerIndex: 1\n"), "4 points x (1 + 1)")
        #expect(!manifest.contains(PlanFixture.token) && !manifest.contains(PlanFixture.password))
    }
}
