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

/// The Kubernetes backend against the fake API server, with an image step that finds every image
/// in the registry (the real image step is tested through the binary in KubernetesRunTests).
@Suite struct KubernetesBackendTests {
    @Test func runCreatesNamespaceClaimSecretAndAJobWithoutTheSecret() async throws {
        try await withFakeKubernetes { server in
            let project = try KubernetesProject(server: server)
            let plan = try project.plan()
            let outcome = await project.run(plan)
            #expect(outcome.status == 0, "\(outcome.message)")
            let name = plan.experiment.name
            #expect(outcome.output == "Created job \(name) in namespace proj\n")
            #expect(outcome.notes.contains("'mrun --context k logs \(name) -f'"))
            #expect(outcome.notes.contains("'mrun --context k status \(name)'"))
            #expect(
                !outcome.notes.contains(KubernetesProject.token) && !outcome.output.contains(KubernetesProject.token))

            let namespaces = await server.controller.all(Kubernetes.Namespace.self).compactMap(\.metadata.name)
            #expect(namespaces.contains("proj"))
            let claim = try await server.controller.get(
                Kubernetes.PersistentVolumeClaim.self, namespace: "proj", name: "mrun-storage")
            #expect(claim.spec?.resources?.requests?["storage"] == "40Gi")
            let secret = try await server.controller.get(
                Kubernetes.Secret.self, namespace: "proj", name: "mrun-neptune")
            #expect(secret.stringValue(forKey: "NEPTUNE_API_TOKEN") == KubernetesProject.token)

            let job = try await server.controller.get(Kubernetes.Job.self, namespace: "proj", name: name)
            let container = try #require(job.spec?.template.spec?.containers.first)
            #expect(container.image == "\(plan.image?.tag ?? "")@\(StubImageBuilder.digest)", "pinned to the digest")
            #expect(container.args == ["--epochs", "3"])
            let tokenVariable = container.env?.first { $0.name == "NEPTUNE_API_TOKEN" }
            #expect(tokenVariable?.value == nil)
            #expect(tokenVariable?.valueFrom?.secretKeyRef == .init(name: "mrun-neptune", key: "NEPTUNE_API_TOKEN"))
            let jobBodies = server.createBodies("jobs")
            #expect(jobBodies.count == 1)
            for body in jobBodies { #expect(!String(decoding: body, as: UTF8.self).contains(KubernetesProject.token)) }
            let secretBodies = server.createBodies("secrets")
            #expect(secretBodies.count == 1)
            #expect(secretBodies.allSatisfy { String(decoding: $0, as: UTF8.self).contains(KubernetesProject.token) })
            #expect(project.images.calls == 1)
        }
    }

    @Test func secondRunReusesTheObjectsAndUpdatesTheSecret() async throws {
        try await withFakeKubernetes { server in
            var project = try KubernetesProject(server: server)
            #expect(await project.run(try project.plan()).status == 0)
            project.variables["NEPTUNE_API_TOKEN"] = "nep-TOKEN-rotated"
            let second = await project.run(try project.plan())
            #expect(second.status == 0, "\(second.message)")
            let secret = try await server.controller.get(
                Kubernetes.Secret.self, namespace: "proj", name: "mrun-neptune")
            #expect(secret.stringValue(forKey: "NEPTUNE_API_TOKEN") == "nep-TOKEN-rotated")
            #expect(await server.controller.all(Kubernetes.Job.self, namespace: "proj").count == 2)
            // The first run's replace found no Secret (404) and created it; the second replaced it.
            let replaces = server.requests.filter { $0.method == "PUT" && $0.path.hasSuffix("/secrets/mrun-neptune") }
            #expect(replaces.map(\.status) == [404, 200])
        }
    }

    @Test func withoutSecretsNoSecretIsMadeAndTheClaimSizeIsTheContexts() async throws {
        try await withFakeKubernetes { server in
            var project = try KubernetesProject(server: server)
            project.variables["NEPTUNE_API_TOKEN"] = nil
            project.context.kubernetes.defaultPVCSize = "5Gi"
            #expect(await project.run(try project.plan()).status == 0)
            #expect(await server.controller.all(Kubernetes.Secret.self, namespace: "proj").isEmpty)
            let claim = try await server.controller.get(
                Kubernetes.PersistentVolumeClaim.self, namespace: "proj", name: "mrun-storage")
            #expect(claim.spec?.resources?.requests?["storage"] == "5Gi")
        }
    }

    @Test func gpuQuantitiesAndTemplateFieldsMrunCannotSendAreHandled() async throws {
        try await withFakeKubernetes { server in
            var project = try KubernetesProject(server: server)
            project.context.resources = try Resources.parse("cpu=2 gpu=1")
            let plan = try project.plan()
            #expect(await project.run(plan).status == 0)
            let job = try await server.controller.get(
                Kubernetes.Job.self, namespace: "proj", name: plan.experiment.name)
            #expect(job.spec?.template.spec?.containers.first?.resources?.limits?["nvidia.com/gpu"] == "1")

            let yaml = """
                apiVersion: batch/v1
                kind: Job
                metadata: {name: x}
                spec:
                  template:
                    spec:
                      runtimeClassName: nvidia
                      tolerations: [{key: gpu, operator: Exists}]
                      containers: [{name: main, image: i, ports: [{containerPort: 80}]}]
                """
            let converted = try KubernetesManifests.object(
                Kubernetes.Job.self, from: Artefact(name: "job.yaml", template: "test", content: yaml))
            #expect(
                converted.dropped == ["spec.template.spec.containers[0].ports", "spec.template.spec.runtimeClassName"])
            #expect(converted.object.spec?.template.spec?.tolerations == [.init(key: "gpu", operator: "Exists")])
        }
    }

    @Test func aJobRefusedAsInvalidSaysWhatExistsNow() async throws {
        try await withFakeKubernetes { server in
            let project = try KubernetesProject(server: server)
            let templates = project.sandbox.root.appendingPathComponent("templates")
            let job = BuiltInTemplates.files["job.yaml"]?.replacingOccurrences(
                of: "  name: {{ experiment.name|tojson }}", with: "  name: \"Bad_Name\"")
            try project.sandbox.write(job ?? "", to: "job.yaml.stencil", in: templates)
            var request = RunRequest(script: "exp.py")
            request.templatesDir = templates.path
            let plan = try PlanBuilder(host: project.host, store: project.sandbox.store).plan(
                request, context: project.context)
            let outcome = await project.run(plan)
            #expect(
                outcome.message
                    == "the Kubernetes API server refused Job \"Bad_Name\" as invalid (422 Invalid): metadata.name: Invalid value: \"Bad_Name\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*'); fix the template or context settings that produced it (no Job was created; these exist now and the next run reuses them: namespace \"proj\", PersistentVolumeClaim \"mrun-storage\", Secret \"mrun-neptune\")"
            )
            #expect(!outcome.message.contains("\n"))
        }
    }

    @Test func aNamespaceWithAnInvalidNameIsRefusedAndNothingIsCreated() async throws {
        try await withFakeKubernetes { server in
            var project = try KubernetesProject(server: server)
            project.context.kubernetes.namespace = "Team_NS"
            project.images.missing = true
            let outcome = await project.run(try project.plan())
            #expect(
                outcome.message.hasPrefix(
                    "the Kubernetes API server refused Namespace \"Team_NS\" as invalid (422 Invalid): metadata.name: Invalid value: \"Team_NS\""
                ))
            #expect(!outcome.message.contains("exist now"))
            #expect(project.images.builds == 0, "a cluster problem shows before anything is built")
            #expect(server.createBodies("persistentvolumeclaims").isEmpty)
        }
    }

    @Test func aServerErrorIsRetriedAndTheJobCreatedOnce() async throws {
        try await withFakeKubernetes { server in
            let project = try KubernetesProject(server: server)
            server.faults.inject(.status(500), count: 1, method: "POST", pathContains: "/jobs")
            server.faults.inject(.resetAfterHandling, count: 1, method: "POST", pathContains: "/persistentvolumeclaims")
            let outcome = await project.run(try project.plan())
            #expect(outcome.status == 0, "\(outcome.message)")
            let posts = server.requests.filter { $0.method == "POST" && $0.path.hasSuffix("/jobs") }
            #expect(posts.map(\.status) == [500, 201])
            #expect(await server.controller.all(Kubernetes.Job.self, namespace: "proj").count == 1)
        }
    }

    @Test func aTimeoutIsOneLineNamingWhatExists() async throws {
        try await withFakeKubernetes { server in
            let project = try KubernetesProject(server: server)
            // Long enough for the other requests on a loaded machine, short for the test.
            // (2 s was seen to time out the namespace create on a machine busy building.)
            server.faults.inject(.stall(.seconds(12)), count: 5, method: "POST", pathContains: "/jobs")
            let outcome = await project.run(try project.plan(), options: .fast(timeout: .seconds(4), attempts: 2))
            #expect(
                outcome.message.hasPrefix(
                    "the Kubernetes API server https://127.0.0.1:\(server.port) did not answer within 4 s to create Job \""
                ))
            #expect(
                outcome.message.hasSuffix(
                    "(no Job was created; these exist now and the next run reuses them: namespace \"proj\", PersistentVolumeClaim \"mrun-storage\", Secret \"mrun-neptune\")"
                ))
            #expect(!outcome.message.contains("\n"))
        }
    }
}
