import FakeKubernetes
import Foundation
import Testing

@testable import KubernetesAPI
@testable import MrunSupport

/// Indexed Jobs in the fake (validation, one pod per index, completion) and the garbage
/// collection that takes a gang's Service and pods with its Job.
@Suite struct FakeKubernetesGangTests {
    typealias K = Kubernetes

    static func gang(_ name: String, nodes: Int = 3, backoffLimit: Int = 0) -> K.Job {
        var job = Sample.job(name, backoffLimit: backoffLimit)
        job.spec?.completionMode = K.CompletionMode.indexed
        job.spec?.completions = nodes
        job.spec?.parallelism = nodes
        job.spec?.template.spec?.subdomain = name
        return job
    }

    func invalidCauses(_ job: K.Job, _ client: KubernetesClient, _ namespace: String) async -> [K.StatusCause]? {
        let error = await thrownError(KubernetesError.self) {
            _ = try await client.createJob(job, namespace: namespace)
        }
        #expect(error?.statusCode == 422)
        return error?.status?.details?.causes
    }

    @Test func completionModesAreCheckedAsTheServerDoes() async throws {
        try await withFakeKubernetes { server in
            let namespace = try await server.makeNamespace()
            let client = try server.client()
            var noCompletions = Self.gang("a")
            noCompletions.spec?.completions = nil
            #expect(
                await invalidCauses(noCompletions, client, namespace)
                    == [
                        .init(
                            reason: "FieldValueRequired", message: "Required value: when completion mode is Indexed",
                            field: "spec.completions")
                    ])
            var unknown = Self.gang("b")
            unknown.spec?.completionMode = "Sequential"
            #expect(
                await invalidCauses(unknown, client, namespace)
                    == [
                        .init(
                            reason: "FieldValueNotSupported",
                            message: "Unsupported value: \"Sequential\": supported values: \"NonIndexed\", \"Indexed\"",
                            field: "spec.completionMode")
                    ])
            var wide = Self.gang("c")
            wide.spec?.parallelism = 100_001
            #expect(await invalidCauses(wide, client, namespace)?.map(\.field) == ["spec.parallelism"])
            #expect(await server.controller.all(K.Job.self).isEmpty)

            // Parallelism alone is a work queue: completions stays unset.
            var queue = Sample.job("d")
            queue.spec?.parallelism = 2
            let made = try await client.createJob(queue, namespace: namespace)
            #expect(made.spec?.completions == nil && made.spec?.parallelism == 2)
            #expect(made.spec?.completionMode == K.CompletionMode.nonIndexed)
        }
    }

    @Test func tolerationsAndDNSFieldsOfTheTemplateAreChecked() async throws {
        try await withFakeKubernetes { server in
            let namespace = try await server.makeNamespace()
            let client = try server.client()
            var job = Self.gang("bad")
            job.spec?.template.spec?.subdomain = "Not_A_Label"
            job.spec?.template.spec?.tolerations = [
                .init(key: "gpu", operator: "Exists", value: "yes"),
                .init(key: "spot", operator: "Equal", value: "true", effect: "NoSchedule", tolerationSeconds: 60),
                .init(operator: "Equal", value: "x"), .init(key: "k", operator: "Equal", effect: "NoRun"),
            ]
            job.spec?.template.spec?.nodeSelector = ["bad key": "v"]
            let fields = await invalidCauses(job, client, namespace)?.map(\.field)
            #expect(
                fields == [
                    "spec.template.spec.subdomain", "spec.template.spec.nodeSelector",
                    "spec.template.spec.tolerations[0].operator", "spec.template.spec.tolerations[1].effect",
                    "spec.template.spec.tolerations[2].operator", "spec.template.spec.tolerations[3].effect",
                ])

            var good = Self.gang("good")
            good.spec?.template.spec?.tolerations = [
                .init(key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule"),
                .init(key: "spot", operator: "Equal", value: "true", effect: "NoExecute", tolerationSeconds: 60),
                .init(operator: "Exists"),
            ]
            good.spec?.template.spec?.priorityClassName = "high"
            let made = try await client.createJob(good, namespace: namespace)
            #expect(made.spec?.template.spec?.tolerations == good.spec?.template.spec?.tolerations)
        }
    }

    @Test func anIndexedJobGetsOnePodPerIndexAndCompletesWhenAllSucceed() async throws {
        try await withFakeKubernetes { server in
            let namespace = try await server.makeNamespace()
            let cluster = server.controller
            _ = try await server.client().createJob(Self.gang("gang"), namespace: namespace)
            let pods = try await cluster.createIndexedPods(forJob: "gang", namespace: namespace)
            #expect(pods.count == 3)
            for (index, pod) in pods.enumerated() {
                let name = try #require(pod.metadata.name)
                #expect(name.wholeMatch(of: /gang-\d-[bcdfghjklmnpqrstvwxz2456789]{5}/) != nil, "\(name)")
                #expect(name.hasPrefix("gang-\(index)-"))
                #expect(pod.metadata.annotations?[K.CompletionIndex.annotation] == "\(index)")
                #expect(pod.metadata.labels?[K.CompletionIndex.label] == "\(index)")
                #expect(pod.metadata.labels?["job-name"] == "gang")
                #expect(pod.spec?.hostname == "gang-\(index)" && pod.spec?.subdomain == "gang")
                #expect(K.CompletionIndex.of(pod) == index)
            }
            #expect(try await cluster.createIndexedPods(forJob: "gang", namespace: namespace).isEmpty, "all running")
            var job = try await cluster.get(K.Job.self, namespace: namespace, name: "gang")
            #expect(job.status?.active == 3 && job.status?.ready == 0 && job.status?.startTime != nil)

            for pod in pods { try await cluster.start(pod: pod.metadata.name ?? "", namespace: namespace) }
            #expect(try await cluster.get(K.Job.self, namespace: namespace, name: "gang").status?.ready == 3)
            for pod in pods.prefix(2) { try await cluster.finish(pod: pod.metadata.name ?? "", namespace: namespace) }
            job = try await cluster.get(K.Job.self, namespace: namespace, name: "gang")
            #expect(job.status?.completedIndexes == "0,1" && job.status?.succeeded == 2)
            #expect(job.status?.active == 1 && job.phase == .active)
            try await cluster.finish(pod: pods[2].metadata.name ?? "", namespace: namespace)
            job = try await cluster.get(K.Job.self, namespace: namespace, name: "gang")
            #expect(job.status?.completedIndexes == "0-2" && job.status?.succeeded == 3)
            #expect(job.status?.active == nil && job.status?.completionTime != nil)
            #expect(job.phase == .succeeded)
        }
    }

    @Test func aFailedIndexIsRetriedUntilTheBackoffLimit() async throws {
        try await withFakeKubernetes { server in
            let namespace = try await server.makeNamespace()
            let cluster = server.controller
            _ = try await server.client().createJob(Self.gang("flaky", backoffLimit: 1), namespace: namespace)
            let pods = try await cluster.createIndexedPods(forJob: "flaky", namespace: namespace)
            for pod in pods { try await cluster.start(pod: pod.metadata.name ?? "", namespace: namespace) }
            try await cluster.finish(pod: pods[0].metadata.name ?? "", namespace: namespace)
            try await cluster.finish(pod: pods[1].metadata.name ?? "", namespace: namespace, exitCode: 1)
            var job = try await cluster.get(K.Job.self, namespace: namespace, name: "flaky")
            #expect(job.status?.failed == 1 && job.phase == .active)
            let second = await cluster.pods(ofJob: "flaky", namespace: namespace).filter {
                K.CompletionIndex.of($0) == 1 && $0.status?.phase == .pending
            }
            #expect(second.count == 1, "index 1 gets a new pod")
            let retry = try #require(second.first?.metadata.name)
            try await cluster.start(pod: retry, namespace: namespace)
            try await cluster.finish(pod: retry, namespace: namespace, exitCode: 2)
            job = try await cluster.get(K.Job.self, namespace: namespace, name: "flaky")
            #expect(job.status?.failed == 2 && job.phase == .failed)
            #expect(job.status?.condition("Failed")?.reason == "BackoffLimitExceeded")
            #expect(job.status?.completedIndexes == "0")
            let left = await cluster.pods(ofJob: "flaky", namespace: namespace)
            #expect(!left.contains { $0.metadata.name == pods[2].metadata.name }, "the running index is deleted")
        }
    }

    @Test func runIndexedRunsTheWholeGang() async throws {
        try await withFakeKubernetes { server in
            let namespace = try await server.makeNamespace()
            _ = try await server.client().createJob(Self.gang("all", nodes: 4), namespace: namespace)
            let pods = try await server.controller.runIndexed(job: "all", namespace: namespace, lines: ["hi"])
            #expect(pods.map { $0.status?.phase } == Array(repeating: .succeeded, count: 4))
            let job = try await server.controller.get(K.Job.self, namespace: namespace, name: "all")
            #expect(job.phase == .succeeded && job.status?.completedIndexes == "0-3")
        }
    }

    /// The gang as the backend will make it: the Job, then its Service owned by the Job's uid.
    func makeGang(_ name: String, _ server: FakeKubernetesServer, _ namespace: String) async throws -> K.Job {
        let client = try server.client()
        let job = try await client.createJob(Self.gang(name, nodes: 2), namespace: namespace)
        let owner = try #require(K.OwnerReference(controller: job))
        _ = try await client.createService(
            K.Service.headless(name: name, selector: ["job-name": name], owner: owner), namespace: namespace)
        try await server.controller.createIndexedPods(forJob: name, namespace: namespace)
        return job
    }

    @Test(arguments: [K.PropagationPolicy.background, .foreground])
    func deletingTheJobDeletesItsServiceAndPods(policy: K.PropagationPolicy) async throws {
        try await withFakeKubernetes { server in
            let namespace = try await server.makeNamespace()
            let client = try server.client()
            _ = try await makeGang("gang", server, namespace)
            _ = try await client.createService(FakeKubernetesServiceTests.service("other"), namespace: namespace)
            #expect(await server.controller.pods(ofJob: "gang", namespace: namespace).count == 2)
            try await client.deleteJob("gang", namespace: namespace, propagationPolicy: policy)
            let gone = await thrownError(KubernetesError.self) {
                _ = try await client.getService("gang", namespace: namespace)
            }
            #expect(gone?.statusCode == 404)
            #expect(await server.controller.pods(ofJob: "gang", namespace: namespace).isEmpty)
            #expect(try await client.getService("other", namespace: namespace).metadata.name == "other", "not owned")
        }
    }

    @Test func anOrphaningDeleteKeepsTheServiceWithoutItsOwner() async throws {
        try await withFakeKubernetes { server in
            let namespace = try await server.makeNamespace()
            let client = try server.client()
            _ = try await makeGang("gang", server, namespace)
            try await client.deleteJob("gang", namespace: namespace, propagationPolicy: nil)
            let kept = try await client.getService("gang", namespace: namespace)
            #expect(kept.metadata.ownerReferences == nil)
            let pods = await server.controller.pods(ofJob: "gang", namespace: namespace)
            #expect(pods.count == 2 && pods.allSatisfy { $0.metadata.ownerReferences == nil })
        }
    }

    @Test func aServiceWhoseOwnerDoesNotExistIsCollected() async throws {
        try await withFakeKubernetes { server in
            let namespace = try await server.makeNamespace()
            let client = try server.client()
            let stray = K.OwnerReference(
                apiVersion: "batch/v1", kind: "Job", name: "gang", uid: UUID().uuidString.lowercased(), controller: true
            )
            let made = try await client.createService(
                K.Service.headless(name: "gang", selector: ["job-name": "gang"], owner: stray), namespace: namespace)
            #expect(made.metadata.ownerReferences == [stray], "created, as a real server does")
            let gone = await thrownError(KubernetesError.self) {
                _ = try await client.getService("gang", namespace: namespace)
            }
            #expect(gone?.statusCode == 404, "then collected: its only owner is not there")

            var incomplete = stray
            incomplete.uid = ""
            let refused = await thrownError(KubernetesError.self) {
                _ = try await client.createService(
                    K.Service.headless(name: "gang", selector: [:], owner: incomplete), namespace: namespace)
            }
            #expect(
                refused?.status?.details?.causes
                    == [
                        .init(
                            reason: "FieldValueInvalid", message: "Invalid value: \"\": uid must not be empty",
                            field: "metadata.ownerReferences.uid")
                    ])
        }
    }
}
