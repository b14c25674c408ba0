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

/// Failures of a Kubernetes launch: each a one-line message naming what failed and what to do,
/// with the image step not reached when the cluster is the problem.
@Suite struct KubernetesBackendErrorTests {
    func failure(_ project: KubernetesProject, sourceLocation: SourceLocation = #_sourceLocation) async throws
        -> String
    {
        let outcome = await project.run(try project.plan())
        #expect(
            outcome.error is any UserFacingError, "\(String(describing: outcome.error))", sourceLocation: sourceLocation
        )
        #expect(!outcome.message.contains("\n"), sourceLocation: sourceLocation)
        #expect(!outcome.message.contains(KubernetesProject.token), sourceLocation: sourceLocation)
        return outcome.message
    }

    @Test func missingKubeconfig() async throws {
        try await withFakeKubernetes { server in
            var project = try KubernetesProject(server: server)
            let missing = project.sandbox.root.appendingPathComponent("no-such-kubeconfig").path
            project.variables["KUBECONFIG"] = missing
            #expect(
                try await failure(project)
                    == "no kubeconfig found through KUBECONFIG: none of \(missing) exists; create one with 'gcloud container clusters get-credentials CLUSTER' (GKE) or with 'kubectl config set-cluster' and 'kubectl config set-context', or fix KUBECONFIG"
            )
            #expect(server.requests.isEmpty)
        }
    }

    @Test func malformedKubeconfig() async throws {
        try await withFakeKubernetes { server in
            var project = try KubernetesProject(server: server)
            let file = try project.sandbox.write(
                "apiVersion: v1\nclusters: [oops\n", to: "kubeconfig", in: project.sandbox.home)
            project.variables["KUBECONFIG"] = file.path
            let message = try await failure(project)
            #expect(message.hasPrefix("\(file.path):"), "\(message)")
            #expect(project.images.calls == 0)
        }
    }

    @Test func unknownKubeContext() async throws {
        try await withFakeKubernetes { server in
            var project = try KubernetesProject(server: server)
            project.context.kubernetes.kubeContext = "fakee"
            let message = try await failure(project)
            #expect(message.contains(": no context named 'fakee'"), "\(message)")
            #expect(message.hasSuffix("known: fake; set kube_context to one of them"), "\(message)")
        }
    }

    @Test func wrongCertificateAuthority() async throws {
        try await withFakeKubernetes { server in
            var project = try KubernetesProject(server: server)
            project.variables["KUBECONFIG"] = try server.kubeconfig(for: .certificate("alice"), authority: .other).path
            project.images.missing = true
            let message = try await failure(project)
            #expect(
                message.hasPrefix(
                    "the certificate of the Kubernetes API server https://127.0.0.1:\(server.port) is not trusted"),
                "\(message)")
            #expect(project.images.builds == 0, "the registry check runs beside the setup, but nothing is built")
        }
    }

    @Test func rejectedToken() async throws {
        try await withFakeKubernetes { server in
            let project = try KubernetesProject(server: server, user: .token("revoked-token"))
            #expect(
                try await failure(project)
                    == "the Kubernetes API server rejected the credentials (401 Unauthorized); check the user of the kubeconfig context: its token may be expired or wrong, or its client certificate not trusted; mrun sent the bearer token of context 'fake'"
            )
        }
    }

    @Test func forbiddenUser() async throws {
        try await withFakeKubernetes { server in
            _ = try await server.makeNamespace("proj")
            let project = try KubernetesProject(server: server, user: .token("nobody-token"))
            project.images.missing = true
            let message = try await failure(project)
            #expect(
                message.hasPrefix(
                    "user \"mrun-nobody\" may not create persistentvolumeclaims in namespace \"proj\" (403 Forbidden); a cluster admin must grant it"
                ), "\(message)")
            #expect(project.images.builds == 0, "the registry check runs beside the setup, but nothing is built")
        }
    }

    @Test func missingNamespaceTheUserMayNotCreate() async throws {
        try await withFakeKubernetes { server in
            // bob may do anything inside namespace "proj", nothing at the cluster scope.
            server.authorizer.revoke(group: "mrun-users")
            server.authorizer.allow(user: "bob", FakeRBACRule(namespaces: ["proj"]))
            let project = try KubernetesProject(server: server, user: .certificate("bob"))
            let message = try await failure(project)
            #expect(
                message.hasPrefix(
                    "namespace \"proj\" does not exist and mrun may not create it (user \"bob\" may not create namespaces (403 Forbidden)"
                ), "\(message)")
            #expect(
                message.hasSuffix(
                    "; ask a cluster admin to create it, or set the context's 'namespace' key to a namespace you may use"
                ))

            // Once an admin made it, bob's runs work.
            _ = try await server.makeNamespace("proj")
            let outcome = await project.run(try project.plan())
            #expect(outcome.status == 0, "\(outcome.message)")
        }
    }

    @Test func insecureContextIsAnnouncedLoudly() async throws {
        try await withFakeKubernetes { server in
            var project = try KubernetesProject(server: server)
            project.variables["KUBECONFIG"] = try server.kubeconfig(
                for: .certificate("alice"), authority: .insecureSkipVerify
            ).path
            let outcome = await project.run(try project.plan())
            #expect(outcome.status == 0, "\(outcome.message)")
            #expect(
                outcome.notes.hasPrefix(
                    String(repeating: "!", count: 72) + "\nmrun: WARNING: context 'fake' sets insecure-skip-tls-verify")
            )
        }
    }
}
