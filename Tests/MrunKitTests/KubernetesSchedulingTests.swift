import FakeKubernetes
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

/// The context's queue, priority class, node selector and tolerations, from the rendered job.yaml
/// to the Job the fake API server stores, and through the binary with the test bed's registry.
@Suite(.serialized) struct KubernetesSchedulingTests {
    static let tolerations = ["nvidia.com/gpu:NoSchedule", "spot=true:NoExecute:0", "dedicated=ml", "maintenance"]

    static func schedule(_ context: inout Context) {
        context.kubernetes.queue = "team-a"
        context.kubernetes.priorityClass = "high-priority"
        context.kubernetes.nodeSelector = ["cloud.google.com/gke-nodepool": "a100", "camelCaseLabel": "true"]
        context.kubernetes.tolerations = tolerations
    }

    static let expectedTolerations: [Kubernetes.Toleration] = [
        .init(key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule"),
        .init(key: "spot", operator: "Equal", value: "true", effect: "NoExecute", tolerationSeconds: 0),
        .init(key: "dedicated", operator: "Equal", value: "ml"), .init(key: "maintenance", operator: "Exists"),
    ]

    /// What the typed Job must carry, whichever way it was made.
    static func expectScheduled(_ job: Kubernetes.Job, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(job.metadata.labels?["kueue.x-k8s.io/queue-name"] == "team-a", sourceLocation: sourceLocation)
        let pod = job.spec?.template.spec
        #expect(pod?.priorityClassName == "high-priority", sourceLocation: sourceLocation)
        #expect(
            pod?.nodeSelector == ["cloud.google.com/gke-nodepool": "a100", "camelCaseLabel": "true"],
            sourceLocation: sourceLocation)
        #expect(pod?.tolerations == expectedTolerations, sourceLocation: sourceLocation)
        #expect(
            job.spec?.template.metadata?.labels?["kueue.x-k8s.io/queue-name"] == nil, "Kueue reads the Job's label",
            sourceLocation: sourceLocation)
    }

    @Test func theRenderedJobCarriesThemAndTheTypedJobKeepsThem() async throws {
        try await withFakeKubernetes { server in
            var project = try KubernetesProject(server: server)
            Self.schedule(&project.context)
            let plan = try project.plan()
            let manifest = try #require(plan.artefact(.job))
            #expect(
                manifest.content.contains(
                    "    mrun/experiment: \"\(plan.experiment.name)\"\n    kueue.x-k8s.io/queue-name: \"team-a\"\n"))
            #expect(
                manifest.content.contains(
                    """
                          restartPolicy: Never
                          priorityClassName: "high-priority"
                          nodeSelector: {"camelCaseLabel": "true", "cloud.google.com/gke-nodepool": "a100"}
                          tolerations:
                            - key: "nvidia.com/gpu"
                              operator: "Exists"
                              effect: "NoSchedule"
                            - key: "spot"
                              operator: "Equal"
                              value: "true"
                              effect: "NoExecute"
                              tolerationSeconds: 0
                            - key: "dedicated"
                              operator: "Equal"
                              value: "ml"
                            - key: "maintenance"
                              operator: "Exists"
                          containers:

                    """), "\(manifest.content)")
            let converted = try KubernetesManifests.object(Kubernetes.Job.self, from: manifest)
            #expect(converted.dropped.isEmpty, "nothing the template sets is left out")
            Self.expectScheduled(converted.object)
            let rows = plan.target.summaryRows(of: plan)
            #expect(
                rows.last?.1
                    == "queue team-a, priority class high-priority, nodes camelCaseLabel=true"
                    + " cloud.google.com/gke-nodepool=a100, tolerates nvidia.com/gpu:NoSchedule spot=true:NoExecute:0"
                    + " dedicated=ml maintenance")

            // What the backend POSTs and the fake stores.
            #expect(await project.run(plan).status == 0)
            let stored = try await server.controller.get(
                Kubernetes.Job.self, namespace: "proj", name: plan.experiment.name)
            Self.expectScheduled(stored)
            let body = try #require(server.createBodies("jobs").first)
            Self.expectScheduled(try Kubernetes.decode(Kubernetes.Job.self, from: body))
        }
    }

    @Test func withoutThemTheJobHasNoneOfTheirFields() async throws {
        try await withFakeKubernetes { server in
            let project = try KubernetesProject(server: server)
            let plan = try project.plan()
            let content = try #require(plan.artefact(.job)?.content)
            for field in ["kueue.x-k8s.io", "priorityClassName", "nodeSelector", "tolerations"] {
                #expect(!content.contains(field), "\(field)")
            }
            #expect(plan.target.summaryRows(of: plan).allSatisfy { $0.0 != "Scheduling" })
            #expect(plan.kubernetes?.tolerations == nil && plan.kubernetes?.nodeSelector == nil)
        }
    }

    @Test func everyPointOfASweepCarriesThem() async throws {
        try await withFakeKubernetes { server in
            var project = try KubernetesProject(server: server)
            Self.schedule(&project.context)
            let sweep = try project.sweep(["lr=0.1,0.01,0.001"])
            let sink = RecordingSink()
            #expect(try await project.backend(sink).execute(sweep) == 0)
            let jobs = await server.controller.all(Kubernetes.Job.self, namespace: "proj")
            #expect(jobs.count == 3)
            for job in jobs { Self.expectScheduled(job) }
        }
    }

    @Test func contextKeysReachTheClusterThroughTheBinary() async throws {
        let bed = try await TestBed.withRegistries()
        try await withFakeKubernetes { server in
            let fixture = try ImageFixture(bed: bed)
            let sandbox = fixture.sandbox
            var add = [
                "context", "add", "--name", "k", "--type", "kubernetes", "--registry_url", bed.registry, "--base_image",
                bed.baseImage, "--project", "mrun-k8s-e2e", "--queue", "team-a", "--priority_class", "high-priority",
                "--node_selector", "cloud.google.com/gke-nodepool=a100", "--node_selector", "camelCaseLabel=true",
            ]
            for toleration in Self.tolerations { add += ["--tolerations", toleration] }
            let added = try await CLI.run(add, sandbox: sandbox)
            #expect(added.status == 0, "\(added.standardError)")
            let environment = fixture.variables.merging([
                "KUBECONFIG": try server.kubeconfig(for: .certificate("alice")).path, "NEPTUNE_API_TOKEN": "nep-sched",
            ]) { $1 }

            let dry = try await CLI.run(
                ["--context", "k", "run", "exp.py", "--dry-run"], sandbox: sandbox, environment: environment)
            #expect(dry.status == 0, "\(dry.standardError)")
            #expect(
                dry.standardOutput.contains("queue team-a, priority class high-priority, nodes "),
                "\(dry.standardOutput)")
            #expect(server.requests.isEmpty, "a dry run asks nothing of the cluster")

            let run = try await CLI.run(
                ["--context", "k", "run", "exp.py"], sandbox: sandbox, environment: environment)
            #expect(run.status == 0, "\(run.standardError)")
            #expect(
                !run.standardError.contains("does not send"), "no field of the Job is dropped: \(run.standardError)")
            let jobs = await server.controller.all(Kubernetes.Job.self, namespace: "mrun-k8s-e2e")
            #expect(jobs.count == 1)
            for job in jobs { Self.expectScheduled(job) }
            let tags = jobs.compactMap {
                $0.spec?.template.spec?.containers.first?.image.map { String($0.prefix { $0 != "@" }) }
            }
            await fixture.removeImages(tags)
        }
    }
}
