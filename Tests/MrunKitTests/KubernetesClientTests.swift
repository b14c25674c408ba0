import FakeKubernetes
import Foundation
import Synchronization
import Testing

@testable import MrunKit
@testable import KubernetesAPI
@testable import MrunBackends
@testable import MrunConfig
@testable import MrunHistory
@testable import MrunPlan
@testable import MrunSupport
@testable import MrunTemplates

/// The typed calls against ``FakeKubernetesServer`` over real TLS, on their happy paths.
@Suite struct KubernetesClientTests {
    @Test func namespaceIsCreatedOnceAndEnsuredIdempotently() async throws {
        try await withFakeKubernetes { server in
            let client = try server.client()
            let missing = await thrownError(KubernetesError.self) {
                _ = try await client.get(Kubernetes.Namespace.self, name: "lr-sweep")
            }
            #expect(missing?.statusCode == 404)
            let created = try await client.create(
                Kubernetes.Namespace(
                    metadata: .init(name: "lr-sweep", labels: ["app.kubernetes.io/managed-by": "mrun"])))
            #expect(created.metadata.labels?["kubernetes.io/metadata.name"] == "lr-sweep")
            #expect(created.status?.phase == "Active")
            #expect(created.metadata.uid != nil)
            let again = await thrownError(KubernetesError.self) {
                _ = try await client.create(Kubernetes.Namespace(metadata: .init(name: "lr-sweep")))
            }
            #expect(
                again?.description
                    == "Namespace \"lr-sweep\" already exists (409 AlreadyExists); choose another name or delete it first"
            )
            try await client.ensureNamespace("lr-sweep")
            try await client.ensureNamespace("second")
            let fetched = try await client.get(Kubernetes.Namespace.self, name: "second")
            #expect(fetched.metadata.name == "second")
        }
    }

    @Test func namespaceIsEnsuredWhenTheUserMayOnlyReadIt() async throws {
        try await withFakeKubernetes { server in
            try await server.makeNamespace("given")
            server.authorizer.addToken("reader-token", for: FakeIdentity(user: "reader"))
            server.authorizer.allow(user: "reader", FakeRBACRule(verbs: ["get"], resources: ["namespaces"]))
            let client = try server.client(.token("reader-token"))
            try await client.ensureNamespace("given")
            let refused = await thrownError(KubernetesError.self) { try await client.ensureNamespace("other") }
            #expect(refused?.statusCode == 403)
        }
    }

    @Test func claimIsKeptAndSecretIsReplacedWithNewValues() async throws {
        try await withFakeKubernetes { server in
            let namespace = try await server.makeNamespace()
            let client = try server.client()
            let claim = try await client.ensurePersistentVolumeClaim(Sample.claim(), namespace: namespace)
            #expect(claim.spec?.volumeMode == "Filesystem")
            #expect(claim.metadata.finalizers == ["kubernetes.io/pvc-protection"])
            let kept = try await client.ensurePersistentVolumeClaim(Sample.claim(size: "1Gi"), namespace: namespace)
            #expect(kept.metadata.uid == claim.metadata.uid)
            #expect(kept.spec?.resources?.requests?["storage"] == "40Gi")

            let first = try await client.applySecret(Sample.secret(token: "one"), namespace: namespace)
            #expect(first.stringData == nil)
            #expect(first.stringValue(forKey: "NEPTUNE_API_TOKEN") == "one")
            let second = try await client.applySecret(Sample.secret(token: "two"), namespace: namespace)
            #expect(second.metadata.uid == first.metadata.uid)
            #expect(second.stringValue(forKey: "NEPTUNE_API_TOKEN") == "two")
            let firstVersion = try #require(first.metadata.resourceVersion.flatMap { Int($0) })
            let secondVersion = try #require(second.metadata.resourceVersion.flatMap { Int($0) })
            #expect(secondVersion > firstVersion)
        }
    }

    @Test func staleResourceVersionIsAConflictAndNoneOverwrites() async throws {
        try await withFakeKubernetes { server in
            let namespace = try await server.makeNamespace()
            let client = try server.client()
            let stored = try await client.create(Sample.secret(), namespace: namespace)
            _ = try await client.replace(stored, namespace: namespace)
            let stale = await thrownError(KubernetesError.self) {
                _ = try await client.replace(stored, namespace: namespace)
            }
            #expect(stale?.reason == .conflict)
            #expect(
                stale?.description
                    == "Secret \"mrun-neptune\" in namespace \"mrun-test\" was changed since it was read (409 Conflict:"
                    + " stale resourceVersion); read it again and retry the update")
            var unconditional = stored
            unconditional.metadata.resourceVersion = nil
            _ = try await client.replace(unconditional, namespace: namespace)
        }
    }

    @Test func jobIsCreatedWithServerDefaultsListedAndDeleted() async throws {
        try await withFakeKubernetes { server in
            let namespace = try await server.makeNamespace()
            let client = try server.client()
            let job = try await client.createJob(Sample.job("exp-1"), namespace: namespace)
            let uid = try #require(job.metadata.uid)
            #expect(job.spec?.selector?.matchLabels == ["controller-uid": uid])
            #expect(job.spec?.template.metadata?.labels?["job-name"] == "exp-1")
            #expect(job.spec?.template.spec?.containers.first?.resources?.requests?["memory"] == "4Gi")
            #expect(job.metadata.annotations?[KubernetesClient.requestIDAnnotation]?.count == 36)
            #expect(job.status == Kubernetes.JobStatus())
            _ = try await client.createJob(Sample.job("exp-2"), namespace: namespace)
            #expect(try await client.getJob("exp-1", namespace: namespace).metadata.uid == uid)

            let selected = try await client.listJobs(
                namespace: namespace, labelSelector: [.equals("mrun/experiment", "exp-2")])
            #expect(selected.items.map(\.metadata.name) == ["exp-2"])
            #expect(selected.items.first?.kind == nil)
            let all = try await client.listJobs(namespace: nil, labelSelector: [.exists("mrun/project")])
            #expect(all.items.count == 2)

            try await server.controller.run(job: "exp-1", namespace: namespace, lines: ["hi"])
            #expect(
                try await client.listPods(namespace: namespace, labelSelector: .init(["job-name": "exp-1"])).items.count
                    == 1)
            #expect(try await client.deleteJob("exp-1", namespace: namespace) == nil)
            #expect(try await client.listPods(namespace: namespace).items.isEmpty)
            let gone = await thrownError(KubernetesError.self) {
                try await client.deleteJob("exp-1", namespace: namespace)
            }
            #expect(gone?.description.hasSuffix("it may have been deleted already") == true)
        }
    }

    @Test func orphaningDeleteKeepsThePodsAndWarns() async throws {
        try await withFakeKubernetes { server in
            let namespace = try await server.makeNamespace()
            let warnings = WarningLog()
            var options = KubernetesClient.Options.fast()
            options.warningHandler = { warnings.append($0) }
            let client = try server.client(options: options)
            _ = try await client.createJob(Sample.job("exp-1"), namespace: namespace)
            try await server.controller.run(job: "exp-1", namespace: namespace)
            let deleting = try await client.deleteJob("exp-1", namespace: namespace, propagationPolicy: nil)
            #expect(deleting?.metadata.finalizers == ["orphan"])
            #expect(deleting?.metadata.deletionTimestamp != nil)
            #expect(warnings.all.first?.contains("child pods are preserved by default") == true)
            let pods = try await client.listPods(namespace: namespace, labelSelector: .init(["job-name": "exp-1"]))
                .items
            #expect(pods.count == 1)
            #expect(pods.first?.metadata.ownerReferences == nil)
        }
    }

    @Test func requestsCarryUserAgentAcceptAndCompactJSON() async throws {
        try await withFakeKubernetes { server in
            let namespace = try await server.makeNamespace()
            let client = try server.client(.token("admin-token"))
            #expect(try await client.version().gitVersion == "v1.25.0-fake")
            _ = try await client.createJob(Sample.job("exp-1"), namespace: namespace)
            let post = try #require(server.requests.first { $0.method == "POST" })
            #expect(post.headers["user-agent"] == "mrun/\(MrunKitVersion.version)")
            #expect(post.headers["accept"] == "application/json")
            #expect(post.headers["content-type"] == "application/json")
            #expect(post.headers["authorization"] == "Bearer REDACTED")
            #expect(post.user == "admin")
            let body = String(decoding: post.body, as: UTF8.self)
            #expect(!body.contains("\n") && !body.contains(": "))
            #expect(body.contains(#""app.kubernetes.io/managed-by":"mrun""#))
        }
    }

    @Test func dryRunAndGenerateNameCreate() async throws {
        try await withFakeKubernetes { server in
            let namespace = try await server.makeNamespace()
            let client = try server.client()
            let dry = try await client.createJob(
                Sample.job("exp-dry"), namespace: namespace, options: .init(dryRun: true))
            #expect(dry.metadata.uid != nil && dry.metadata.resourceVersion == nil)
            #expect(await server.controller.all(Kubernetes.Job.self).isEmpty)
            var generated = Sample.job("ignored")
            generated.metadata.name = nil
            generated.metadata.generateName = "exp-lr-"
            let made = try await client.createJob(generated, namespace: namespace)
            let name = try #require(made.metadata.name)
            #expect(name.count == "exp-lr-".count + 5 && name.hasPrefix("exp-lr-"))
        }
    }

    @Test func sharedConnectionsShutDownCleanly() async throws {
        try await withFakeKubernetes { server in
            let http = KubernetesHTTPClient()
            let client = KubernetesClient(
                connection: try server.connection(for: .certificate("alice")), http: http, options: .fast())
            #expect(try await client.version().major == "1")
            try await http.shutdown()
            let error = await thrownError(KubernetesClientError.self) { _ = try await client.version() }
            #expect(
                error?.description
                    == "the request to the Kubernetes API server https://127.0.0.1:\(server.port) to reach the"
                    + " Kubernetes API server failed: mrun's HTTP client was already shut down")
        }
    }
}

/// Collects warnings handed to ``KubernetesClient/Options/warningHandler``.
final class WarningLog: Sendable {
    private let lines = Mutex<[String]>([])
    func append(_ line: String) { lines.withLock { $0.append(line) } }
    var all: [String] { lines.withLock { $0 } }
}
