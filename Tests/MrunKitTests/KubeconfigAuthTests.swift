import FakeKubernetes
import Foundation
import MrunKit
import Testing

/// A one-context kubeconfig (`x` → cluster `c`, user `u`) with the given flow-style bodies.
func kubeconfigText(
    cluster: String = #"server: "https://k.example.com""#, user: String = "token: t",
    context: String = "cluster: c, user: u"
) -> String {
    """
    current-context: x
    clusters: [{name: c, cluster: {\(cluster)}}]
    users: [{name: u, user: {\(user)}}]
    contexts: [{name: x, context: {\(context)}}]
    """
}

@Suite struct KubeconfigAuthTests {
    private func resolve(_ text: String, in kube: KubeSandbox) throws -> ClusterConnection {
        let file = try kube.write(text, to: "kube/config")
        return try kube.loader(files: [file]).resolve(contextName: nil)
    }

    @Test func staticToken() async throws {
        let connection = try resolve(kubeconfigText(user: "token: static-secret"), in: KubeSandbox())
        #expect(try await connection.bearerToken() == "static-secret")
        #expect(try await connection.clientCertificate() == nil)
    }

    @Test func tokenFileIsReadAgainForEveryToken() async throws {
        let kube = try KubeSandbox()
        let tokenFile = try kube.write("first\n", to: "kube/token")
        let connection = try resolve(kubeconfigText(user: "tokenFile: token, token: ignored"), in: kube)
        #expect(try await connection.bearerToken() == "first")
        try kube.write("  rotated  \n", to: "kube/token")
        #expect(try await connection.bearerToken() == "rotated")

        try kube.write("\n", to: "kube/token")
        let empty = await kubeconfigError { _ = try await connection.bearerToken() }
        #expect(
            empty?.description
                == "the token file '\(tokenFile.path)' is empty; write the token into it or fix tokenFile in the kubeconfig"
        )
        try FileManager.default.removeItem(at: tokenFile)
        let gone = await kubeconfigError { _ = try await connection.bearerToken() }
        #expect(
            gone?.description
                == "cannot read the token file '\(tokenFile.path)': no such file; fix tokenFile in the kubeconfig")
    }

    @Test func aTokenTakesPrecedenceOverAnExecPlugin() async throws {
        let user = "token: wins, exec: {command: mrun-no-such-plugin, apiVersion: client.authentication.k8s.io/v1beta1}"
        let connection = try resolve(kubeconfigText(user: user), in: KubeSandbox())
        #expect(try await connection.bearerToken() == "wins")
    }

    @Test func clientCertificateAndCertificateAuthorityFromData() async throws {
        let cluster =
            #"server: "https://k.example.com", tls-server-name: api.internal, "#
            + "certificate-authority-data: \(FakePEM.base64(FakePEM.ca))"
        let user =
            "client-certificate-data: \(FakePEM.base64(FakePEM.certificate)),"
            + " client-key-data: \(FakePEM.base64(FakePEM.key))"
        let connection = try resolve(kubeconfigText(cluster: cluster, user: user), in: KubeSandbox())
        #expect(connection.certificateAuthorityPEM == Array(FakePEM.ca.utf8))
        #expect(connection.tlsServerName == "api.internal")
        #expect(connection.clientCertificatePEM == Array(FakePEM.certificate.utf8))
        #expect(connection.clientKeyPEM == Array(FakePEM.key.utf8))
        #expect(connection.credentials == nil)
        #expect(try await connection.bearerToken() == nil)
        let pair = try await connection.clientCertificate()
        #expect(
            pair == ClientCertificate(certificatePEM: Array(FakePEM.certificate.utf8), keyPEM: Array(FakePEM.key.utf8)))
    }

    @Test func base64WithLineBreaksIsAcceptedLikeGoDoes() throws {
        let encoded = FakePEM.base64(FakePEM.ca)
        let split = "\(encoded.prefix(20))\\n\(encoded.dropFirst(20))"
        let cluster = #"server: "https://k.example.com", certificate-authority-data: "\#(split)""#
        let connection = try resolve(kubeconfigText(cluster: cluster), in: KubeSandbox())
        #expect(connection.certificateAuthorityPEM == Array(FakePEM.ca.utf8))
    }

    @Test func insecureSkipTLSVerifyIsAFlagWithAWarning() throws {
        let cluster = #"server: "https://k.example.com", insecure-skip-tls-verify: true"#
        let connection = try resolve(kubeconfigText(cluster: cluster), in: KubeSandbox())
        #expect(connection.insecureSkipTLSVerify)
        #expect(connection.certificateAuthorityPEM == nil)
        #expect(
            connection.securityWarning
                == "WARNING: context 'x' sets insecure-skip-tls-verify: the identity of https://k.example.com"
                + " is not checked, so anyone on the network path can read and change the traffic, including credentials"
        )
    }

    /// kubectl's default scheme for `host:port`: https when TLS is configured, http otherwise.
    @Test func aServerWithoutSchemeGetsKubectlsDefault() throws {
        let kube = try KubeSandbox()
        try kube.write(FakePEM.ca, to: "kube/ca.pem")
        let withCA = try resolve(
            kubeconfigText(cluster: "server: k.example.com:6443, certificate-authority: ca.pem"), in: kube)
        #expect(withCA.server.absoluteString == "https://k.example.com:6443")
        let plain = try resolve(kubeconfigText(cluster: "server: 127.0.0.1:8080", context: "cluster: c"), in: kube)
        #expect(plain.server.absoluteString == "http://127.0.0.1:8080")
    }

    @Test func descriptionsNeverShowSecrets() throws {
        let user =
            "token: tok-SECRET, client-certificate-data: \(FakePEM.base64(FakePEM.certificate)),"
            + " client-key-data: \(FakePEM.base64(FakePEM.key))"
        let connection = try resolve(kubeconfigText(user: user), in: KubeSandbox())
        for text in [connection.description, String(reflecting: connection), "\(connection)"] {
            #expect(!text.contains("SECRET"))
            #expect(!text.contains("PRIVATE KEY"))
            #expect(text.contains("<redacted>"))
        }
        var model = KubeconfigUser()
        model.token = "tok-SECRET"
        let exec = KubeconfigExec(command: "p", env: [.init(name: "API_KEY", value: "key-SECRET")])
        model.exec = exec
        for text in ["\(model)", String(reflecting: model), "\(exec)", String(reflecting: exec)] {
            #expect(!text.contains("SECRET"))
        }
        #expect("\(model)" == "KubeconfigUser(token, exec: <redacted>)")
        #expect("\(exec)".contains("env: [API_KEY]"))
        let password = kubeconfigError {
            _ = try resolve(kubeconfigText(user: "username: admin, password: hunter2-SECRET"), in: KubeSandbox())
        }
        #expect(password?.description.contains("SECRET") == false)
    }

    @Test func noKubeconfigSaysWhereItLookedAndHowToCreateOne() throws {
        let kube = try KubeSandbox()
        let error = kubeconfigError { _ = try kube.loader().resolve(contextName: nil) }
        #expect(
            error?.description
                == "no kubeconfig at \(kube.defaultKubeconfig.path); create one with 'gcloud container clusters"
                + " get-credentials CLUSTER' (GKE) or with 'kubectl config set-cluster' and 'kubectl config"
                + " set-context', or point KUBECONFIG at one")
        let a = kube.root.appendingPathComponent("a")
        let b = kube.root.appendingPathComponent("b")
        let listed = kubeconfigError { _ = try kube.loader(files: [a, b]).resolve(contextName: "x") }
        #expect(
            listed?.description
                == "no kubeconfig found through KUBECONFIG: none of \(a.path), \(b.path) exists; create one with"
                + " 'gcloud container clusters get-credentials CLUSTER' (GKE) or with 'kubectl config set-cluster'"
                + " and 'kubectl config set-context', or fix KUBECONFIG")
    }
}
