import FakeKubernetes
import Foundation
import MrunKit
import Testing

@Suite struct KubeconfigInClusterTests {
    private let serviceEnvironment = ["KUBERNETES_SERVICE_HOST": "10.0.0.1", "KUBERNETES_SERVICE_PORT": "443"]

    private func mountServiceAccount(in kube: KubeSandbox, token: String = "sa-token\n") throws {
        try kube.write(token, to: "token", in: kube.serviceAccount)
        try kube.write(FakePEM.ca, to: "ca.crt", in: kube.serviceAccount)
        try kube.write("ml-jobs\n", to: "namespace", in: kube.serviceAccount)
    }

    @Test func usesTheServiceAccountWhenThereIsNoKubeconfig() async throws {
        let kube = try KubeSandbox()
        try mountServiceAccount(in: kube)
        let connection = try kube.loader(serviceEnvironment).resolve(contextName: nil)
        #expect(connection.server.absoluteString == "https://10.0.0.1:443")
        #expect(connection.contextName == "in-cluster")
        #expect(connection.namespace == "ml-jobs")
        #expect(connection.certificateAuthorityPEM == Array(FakePEM.ca.utf8))
        #expect(connection.insecureSkipTLSVerify == false)
        #expect(try await connection.bearerToken() == "sa-token")
        try kube.write("rotated-token", to: "token", in: kube.serviceAccount)
        #expect(try await connection.bearerToken() == "rotated-token", "projected tokens rotate; read each time")
    }

    @Test func bracketsAnIPv6ServiceHost() throws {
        let kube = try KubeSandbox()
        try mountServiceAccount(in: kube)
        let loader = kube.loader(["KUBERNETES_SERVICE_HOST": "fd00::1", "KUBERNETES_SERVICE_PORT": "6443"])
        #expect(try loader.resolve(contextName: nil).server.absoluteString == "https://[fd00::1]:6443")
    }

    /// kubectl falls back to in-cluster also when the kubeconfig files are empty.
    @Test func anEmptyKubeconfigFallsBackToInCluster() throws {
        let kube = try KubeSandbox()
        try mountServiceAccount(in: kube)
        try kube.write("", to: ".kube/config", in: kube.home)
        #expect(try kube.loader(serviceEnvironment).resolve(contextName: nil).contextName == "in-cluster")
    }

    @Test func aKubeconfigWinsOverInCluster() throws {
        let kube = try KubeSandbox()
        try mountServiceAccount(in: kube)
        try kube.write(kubeconfigText(), to: ".kube/config", in: kube.home)
        let connection = try kube.loader(serviceEnvironment).resolve(contextName: nil)
        #expect(connection.contextName == "x")
        #expect(connection.server.absoluteString == "https://k.example.com")
    }

    /// Like kubectl, a context asked for by name needs a kubeconfig that defines it.
    @Test func aNamedContextIsNotSatisfiedByInCluster() throws {
        let kube = try KubeSandbox()
        try mountServiceAccount(in: kube)
        let error = kubeconfigError { _ = try kube.loader(serviceEnvironment).resolve(contextName: "gke") }
        #expect(error?.description.hasPrefix("no kubeconfig at \(kube.defaultKubeconfig.path);") == true)
    }

    @Test func withoutTheServiceVariablesThereIsNoInClusterConfig() throws {
        let kube = try KubeSandbox()
        try mountServiceAccount(in: kube)
        let error = kubeconfigError {
            _ = try kube.loader(["KUBERNETES_SERVICE_HOST": "10.0.0.1"]).resolve(contextName: nil)
        }
        #expect(error?.description.hasPrefix("no kubeconfig at ") == true)
    }

    @Test func aMissingTokenIsNamed() throws {
        let kube = try KubeSandbox()
        try mountServiceAccount(in: kube)
        let token = kube.serviceAccount.appendingPathComponent("token")
        try FileManager.default.removeItem(at: token)
        let error = kubeconfigError { _ = try kube.loader(serviceEnvironment).resolve(contextName: nil) }
        #expect(
            error?.description
                == "in-cluster config: \(token.path) does not exist; mount the pod's service account token"
                + " (automountServiceAccountToken) or provide a kubeconfig")
    }

    @Test func theNamespaceFileIsOptional() throws {
        let kube = try KubeSandbox()
        try mountServiceAccount(in: kube)
        try FileManager.default.removeItem(at: kube.serviceAccount.appendingPathComponent("namespace"))
        #expect(try kube.loader(serviceEnvironment).resolve(contextName: nil).namespace == nil)
    }
}
