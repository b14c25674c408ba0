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

/// TLS trust, client certificates, tokens and RBAC, with the exact messages a user gets.
@Suite struct KubernetesClientAuthTests {
    @Test func serverCertificateFromAnotherCAIsNotTrusted() async throws {
        try await withFakeKubernetes { server in
            for authority in [FakeKubernetesServer.Authority.other, .system] {
                let client = try server.client(authority: authority)
                let error = await thrownError(KubernetesClientError.self) { _ = try await client.version() }
                #expect(error?.kind == .untrustedServerCertificate)
                #expect(
                    error?.description
                        == "the certificate of the Kubernetes API server https://127.0.0.1:\(server.port) is not"
                        + " trusted (certificate verify failed): it is not signed by the certificate authority of"
                        + " context 'fake'; check the cluster's certificate-authority-data in the kubeconfig, it may"
                        + " belong to another cluster")
            }
            // Not retried: trust does not come with time.
            #expect(server.requests.isEmpty)
        }
    }

    @Test func insecureSkipTLSVerifyReachesAServerWithAnUntrustedCertificate() async throws {
        try await withFakeKubernetes(certificate: .untrusted) { server in
            let trusting = try server.client()
            let refused = await thrownError(KubernetesClientError.self) { _ = try await trusting.version() }
            #expect(refused?.kind == .untrustedServerCertificate)
            let connection = try server.connection(for: .certificate("alice"), authority: .insecureSkipVerify)
            #expect(
                connection.securityWarning?.hasPrefix("WARNING: context 'fake' sets insecure-skip-tls-verify") == true)
            let client = KubernetesClient(connection: connection, http: TestEnvironment.http, options: .fast())
            #expect(try await client.version().major == "1")
            #expect(server.requests.last?.user == "alice")
        }
    }

    @Test func tlsServerNameIsTheNameCheckedInTheCertificate() async throws {
        try await withFakeKubernetes(certificate: .namedOnly) { server in
            let unnamed = try server.client(.token("admin-token"))
            let byAddress = await thrownError(KubernetesClientError.self) { _ = try await unnamed.version() }
            #expect(byAddress?.kind == .serverNameMismatch(name: "127.0.0.1"))
            #expect(
                byAddress?.description
                    == "the certificate of the Kubernetes API server https://127.0.0.1:\(server.port) is not issued"
                    + " for '127.0.0.1' (hostname validation failed); check the server address of context 'fake' or"
                    + " set the cluster's tls-server-name to a name in the certificate")
            let named = KubernetesClient(
                connection: try server.connection(for: .token("admin-token"), tlsServerName: "kubernetes.fake"),
                http: TestEnvironment.http, options: .fast())
            #expect(try await named.version().major == "1")
            let wrong = KubernetesClient(
                connection: try server.connection(for: .token("admin-token"), tlsServerName: "api.example.com"),
                http: TestEnvironment.http, options: .fast())
            let error = await thrownError(KubernetesClientError.self) { _ = try await wrong.version() }
            #expect(error?.kind == .serverNameMismatch(name: "api.example.com"))
        }
    }

    @Test(arguments: ["alice", "bob", "carol"])
    func clientCertificatesWithRSAPKCS1PKCS8AndECKeysAuthenticate(name: String) async throws {
        try await withFakeKubernetes { server in
            let namespace = try await server.makeNamespace()
            let client = try server.client(.certificate(name))
            _ = try await client.listJobs(namespace: namespace)
            #expect(server.requests.last?.user == name)
        }
    }

    @Test func expiredClientCertificateIsRefusedWithItsExpiryNamed() async throws {
        try await withFakeKubernetes { server in
            let client = try server.client(.certificate("expired"))
            let error = await thrownError(KubernetesError.self) { _ = try await client.listJobs(namespace: "default") }
            let expiry = try #require(error?.note?.firstMatch(of: /expired on (\S+): renew it/)?.1)
            #expect(Kubernetes.date(from: String(expiry)).map { $0 < Date() } == true)
            #expect(
                error?.description
                    == "the Kubernetes API server rejected the credentials (401 Unauthorized); check the user of the"
                    + " kubeconfig context: its token may be expired or wrong, or its client certificate not"
                    + " trusted; the client certificate mrun sent expired on \(expiry): renew it")
        }
    }

    @Test func clientCertificateFromAnotherCAIsRefused() async throws {
        try await withFakeKubernetes { server in
            let client = try server.client(.certificate("stranger"))
            let error = await thrownError(KubernetesError.self) { _ = try await client.listJobs(namespace: "default") }
            #expect(error?.statusCode == 401)
            #expect(
                error?.note?.hasPrefix("mrun sent the client certificate of context 'fake', valid until ") == true)
            #expect(
                error?.note?.hasSuffix("the cluster does not accept it, maybe it is issued by another cluster's CA")
                    == true)
        }
    }

    @Test func badTokenIsUnauthorizedAndANobodyTokenForbiddenWithTheUserNamed() async throws {
        try await withFakeKubernetes { server in
            let bad = try server.client(.token("no-such-token"))
            let unauthorized = await thrownError(KubernetesError.self) {
                _ = try await bad.listJobs(namespace: "default")
            }
            #expect(
                unauthorized?.description
                    == "the Kubernetes API server rejected the credentials (401 Unauthorized); check the user of the"
                    + " kubeconfig context: its token may be expired or wrong, or its client certificate not"
                    + " trusted; mrun sent the bearer token of context 'fake'")

            #expect(unauthorized.map { !"\($0)".contains("no-such-token") } == true)

            let nobody = try server.client(.token("nobody-token"))
            let forbidden = await thrownError(KubernetesError.self) {
                _ = try await nobody.createJob(Sample.job("exp-1"), namespace: "default")
            }
            #expect(
                forbidden?.description
                    == "user \"mrun-nobody\" may not create jobs in namespace \"default\" (403 Forbidden); a cluster"
                    + " admin must grant it, e.g. a Role in namespace \"default\" with the rule {apiGroups: [\"batch\"],"
                    + " resources: [\"jobs\"], verbs: [\"create\"]} and a RoleBinding of it to \"mrun-nobody\"")
            let anonymous = try server.client(.anonymous)
            let noCredentials = await thrownError(KubernetesError.self) {
                _ = try await anonymous.listJobs(namespace: "default")
            }
            #expect(noCredentials?.description.hasPrefix("the Kubernetes API server received no credentials") == true)
            // Refusals are final: each was asked once.
            #expect(server.requests.count == 3)
        }
    }

    @Test func missingNamespaceAndInvalidObjectsAreExplained() async throws {
        try await withFakeKubernetes { server in
            let client = try server.client()
            let missing = await thrownError(KubernetesError.self) {
                _ = try await client.create(Sample.claim(), namespace: "no-such-ns")
            }
            #expect(
                missing?.description
                    == "namespace \"no-such-ns\" does not exist (404 NotFound); create it with 'kubectl create namespace"
                    + " no-such-ns' or choose another with the context's 'namespace' key")
            let invalidName = await thrownError(KubernetesError.self) {
                _ = try await client.create(Kubernetes.Namespace(metadata: .init(name: "My_Project")))
            }
            #expect(
                invalidName?.description
                    == "the Kubernetes API server refused Namespace \"My_Project\" as invalid (422 Invalid):"
                    + " metadata.name: Invalid value: \"My_Project\": a lowercase RFC 1123 label must consist of lower"
                    + " case alphanumeric characters or '-', and must start and end with an alphanumeric character"
                    + " (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?');"
                    + " fix the template or context settings that produced it")
            var noContainers = Sample.job("exp-1", backoffLimit: -1)
            noContainers.spec?.template.spec?.containers = []
            let invalidJob = await thrownError(KubernetesError.self) {
                _ = try await client.createJob(noContainers, namespace: "default")
            }
            #expect(
                invalidJob?.status?.details?.causes?.map(\.field) == [
                    "spec.backoffLimit", "spec.template.spec.containers",
                ])
            #expect(
                invalidJob?.status?.message
                    == "Job.batch \"exp-1\" is invalid: [spec.backoffLimit: Invalid value: -1: must be greater than or"
                    + " equal to 0, spec.template.spec.containers: Required value]")
        }
    }

    @Test func malformedSelectorAndNamespaceMismatchAreBadRequests() async throws {
        try await withFakeKubernetes { server in
            let client = try server.client()
            let selector = await thrownError(KubernetesError.self) {
                _ = try await client.listJobs(namespace: "default", labelSelector: [.equals("a b", "x")])
            }
            #expect(selector?.statusCode == 400)
            #expect(
                selector?.description.hasPrefix("bad request to list jobs in namespace \"default\" (400 BadRequest): ")
                    == true)
            var elsewhere = Sample.job("exp-1")
            elsewhere.metadata.namespace = "other"
            let mismatch = await thrownError(KubernetesError.self) {
                _ = try await client.createJob(elsewhere, namespace: "default")
            }
            #expect(
                mismatch?.status?.message
                    == "the namespace of the provided object does not match the namespace sent on the request")
        }
    }
}
