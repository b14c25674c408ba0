import FakeKubernetes
import Foundation
import MrunKit
import Testing

/// One broken kubeconfig and the exact line mrun must print for it; `$FILE` and `$DIR` stand for the
/// kubeconfig's path and directory.
struct KubeconfigErrorCase: Sendable, CustomTestStringConvertible {
    var name: String
    var text: String
    var contextName: String? = nil
    var expected: String

    var testDescription: String { name }
}

private let server = #"server: "https://k.example.com""#
private let ca = FakePEM.base64(FakePEM.ca)
private let certificate = FakePEM.base64(FakePEM.certificate)
private let key = FakePEM.base64(FakePEM.key)
private let v1 = "apiVersion: client.authentication.k8s.io/v1"

private let errorCases: [KubeconfigErrorCase] = [
    .init(
        name: "unknown context",
        text: "clusters: [{name: c, cluster: {\(server)}}]\ncontexts: [{name: x, context: {cluster: c}},"
            + " {name: prod, context: {cluster: c}}]",
        contextName: "prd",
        expected:
            "$FILE: no context named 'prd' (did you mean 'prod'?); known: prod, x; set kube_context to one of them"),
    .init(
        name: "no current context",
        text: "clusters: [{name: c, cluster: {\(server)}}]\ncontexts: [{name: x, context: {cluster: c}}]",
        expected:
            "$FILE: no current-context is set; choose one with 'kubectl config use-context NAME' or set"
            + " kube_context in the mrun context"),
    .init(
        name: "no contexts", text: "clusters: [{name: c, cluster: {\(server)}}]",
        expected:
            "$FILE: no contexts are defined; create one with 'gcloud container clusters get-credentials CLUSTER'"
            + " (GKE) or 'kubectl config set-context'"),
    .init(
        name: "context without cluster", text: kubeconfigText(context: "user: u"),
        expected: "$FILE: context 'x' names no cluster; set one with 'kubectl config set-context x --cluster=NAME'"),
    .init(
        name: "missing cluster", text: kubeconfigText(context: "cluster: gone, user: u"),
        expected:
            "$FILE: context 'x' uses cluster 'gone', which is not defined; add it with 'kubectl config"
            + " set-cluster gone --server=URL' or fix the context"),
    .init(
        name: "missing user", text: kubeconfigText(context: "cluster: c, user: nobody"),
        expected:
            "$FILE: context 'x' uses user 'nobody', which is not defined; add it with 'kubectl config"
            + " set-credentials nobody' or fix the context"),
    .init(
        name: "no server", text: kubeconfigText(cluster: "tls-server-name: a"),
        expected:
            "$FILE: cluster 'c' (context 'x') has no server; set it with 'kubectl config set-cluster c"
            + " --server=https://HOST'"),
    .init(
        name: "bad server", text: kubeconfigText(cluster: "server: ftp://k.example.com"),
        expected:
            "$FILE: server 'ftp://k.example.com' of cluster 'c' (context 'x') is not an http(s) URL; use the"
            + " form https://HOST[:PORT], PORT from 1 to 65535"),
    .init(
        name: "port out of range", text: kubeconfigText(cluster: "server: https://127.0.0.1:99999"),
        expected:
            "$FILE: server 'https://127.0.0.1:99999' of cluster 'c' (context 'x') is not an http(s) URL; use the"
            + " form https://HOST[:PORT], PORT from 1 to 65535"),
    .init(
        name: "port zero", text: kubeconfigText(cluster: "server: https://127.0.0.1:0"),
        expected:
            "$FILE: server 'https://127.0.0.1:0' of cluster 'c' (context 'x') is not an http(s) URL; use the"
            + " form https://HOST[:PORT], PORT from 1 to 65535"),
    .init(
        name: "bad CA base64", text: kubeconfigText(cluster: "\(server), certificate-authority-data: not*base64"),
        expected:
            "$FILE: certificate-authority-data of cluster 'c' (context 'x') is not valid base64; copy the value"
            + " again, or give a file path in certificate-authority"),
    .init(
        name: "bad certificate base64",
        text: kubeconfigText(user: "client-certificate-data: '%%%', client-key-data: \(key)"),
        expected:
            "$FILE: client-certificate-data of user 'u' (context 'x') is not valid base64; copy the value"
            + " again, or give a file path in client-certificate"),
    .init(
        name: "bad key base64",
        text: kubeconfigText(user: "client-certificate-data: \(certificate), client-key-data: abc"),
        expected:
            "$FILE: client-key-data of user 'u' (context 'x') is not valid base64; copy the value again, or"
            + " give a file path in client-key"),
    .init(
        name: "missing CA file", text: kubeconfigText(cluster: "\(server), certificate-authority: missing-ca.pem"),
        expected:
            "$FILE: certificate-authority '$DIR/missing-ca.pem' of cluster 'c' (context 'x') does not exist;"
            + " fix the path (a relative one is taken from the kubeconfig's directory)"),
    .init(
        name: "missing certificate file",
        text: kubeconfigText(user: "client-certificate: /nonexistent/cert.pem, client-key-data: \(key)"),
        expected:
            "$FILE: client-certificate '/nonexistent/cert.pem' of user 'u' (context 'x') does not exist; fix"
            + " the path (a relative one is taken from the kubeconfig's directory)"),
    .init(
        name: "missing key file",
        text: kubeconfigText(user: "client-certificate-data: \(certificate), client-key: keys/k.pem"),
        expected:
            "$FILE: client-key '$DIR/keys/k.pem' of user 'u' (context 'x') does not exist; fix the path (a"
            + " relative one is taken from the kubeconfig's directory)"),
    .init(
        name: "missing token file", text: kubeconfigText(user: "tokenFile: tok"),
        expected:
            "$FILE: tokenFile '$DIR/tok' of user 'u' (context 'x') does not exist; fix the path (a relative"
            + " one is taken from the kubeconfig's directory)"),
    .init(
        name: "certificate without key", text: kubeconfigText(user: "client-certificate-data: \(certificate)"),
        expected:
            "$FILE: user 'u' (context 'x') has a client certificate but no client-key or client-key-data; add"
            + " the key that belongs to the certificate"),
    .init(
        name: "key without certificate", text: kubeconfigText(user: "client-key-data: \(key)"),
        expected:
            "$FILE: user 'u' (context 'x') has a client key but no client-certificate or"
            + " client-certificate-data; add the certificate"),
    .init(
        name: "CA file and data",
        text: kubeconfigText(cluster: "\(server), certificate-authority: ca.pem, certificate-authority-data: \(ca)"),
        expected:
            "$FILE: cluster 'c' (context 'x') sets both certificate-authority and certificate-authority-data;"
            + " keep one (kubectl refuses this too)"),
    .init(
        name: "key file and data",
        text: kubeconfigText(
            user: "client-certificate-data: \(certificate), client-key: k.pem, client-key-data: \(key)"),
        expected:
            "$FILE: user 'u' (context 'x') sets both client-key and client-key-data; keep one (kubectl refuses"
            + " this too)"),
    .init(
        name: "insecure with CA",
        text: kubeconfigText(cluster: "\(server), insecure-skip-tls-verify: true, certificate-authority-data: \(ca)"),
        expected:
            "$FILE: cluster 'c' (context 'x') sets insecure-skip-tls-verify together with a certificate"
            + " authority; remove one of them (kubectl refuses this too)"),
    .init(
        name: "basic auth", text: kubeconfigText(user: "username: admin, password: pw"),
        expected:
            "$FILE: user 'u' (context 'x') uses username/password, but basic authentication was removed from"
            + " Kubernetes; use a token, a client certificate or an exec plugin"),
    .init(
        name: "auth provider", text: kubeconfigText(user: "auth-provider: {name: gcp, config: {}}"),
        expected:
            "$FILE: user 'u' (context 'x') uses auth-provider 'gcp', which mrun does not support; use an exec"
            + " plugin (for GKE: install gke-gcloud-auth-plugin and rerun 'gcloud container clusters"
            + " get-credentials')"),
    .init(
        name: "exec without command", text: kubeconfigText(user: "exec: {\(v1), interactiveMode: Never}"),
        expected:
            "$FILE: exec plugin of user 'u' (context 'x'): 'command' is missing; give the plugin's program,"
            + " e.g. gke-gcloud-auth-plugin"),
    .init(
        name: "exec without apiVersion", text: kubeconfigText(user: "exec: {command: p}"),
        expected:
            "$FILE: exec plugin of user 'u' (context 'x'): 'apiVersion' is missing; use"
            + " client.authentication.k8s.io/v1 or client.authentication.k8s.io/v1beta1"),
    .init(
        name: "exec v1alpha1",
        text: kubeconfigText(user: "exec: {command: p, apiVersion: client.authentication.k8s.io/v1alpha1}"),
        expected:
            "$FILE: exec plugin of user 'u' (context 'x'): apiVersion 'client.authentication.k8s.io/v1alpha1'"
            + " is not supported; use client.authentication.k8s.io/v1 or client.authentication.k8s.io/v1beta1"),
    .init(
        name: "exec v1 without interactiveMode", text: kubeconfigText(user: "exec: {command: p, \(v1)}"),
        expected:
            "$FILE: exec plugin of user 'u' (context 'x'): 'interactiveMode' is missing; set it to Never or"
            + " IfAvailable"),
    .init(
        name: "exec always interactive",
        text: kubeconfigText(user: "exec: {command: p, \(v1), interactiveMode: Always}"),
        expected:
            "$FILE: exec plugin of user 'u' (context 'x'): interactiveMode 'Always' needs a terminal, which"
            + " mrun never gives the plugin; use IfAvailable"),
    .init(
        name: "exec unnamed env",
        text: kubeconfigText(user: "exec: {command: p, \(v1), interactiveMode: Never, env: [{name: '', value: x}]}"),
        expected: "$FILE: exec plugin of user 'u' (context 'x'): env[0] has no name"),
]

@Suite struct KubeconfigErrorTests {
    @Test(arguments: errorCases)
    func eachProblemIsOneExactLine(_ errorCase: KubeconfigErrorCase) throws {
        let kube = try KubeSandbox()
        let file = try kube.write(errorCase.text, to: "kube/config")
        try kube.write(FakePEM.ca, to: "kube/ca.pem")
        try kube.write(FakePEM.key, to: "kube/k.pem")
        let error = kubeconfigError {
            _ = try kube.loader(files: [file]).resolve(contextName: errorCase.contextName)
        }
        let expected = errorCase.expected
            .replacingOccurrences(of: "$FILE", with: file.path)
            .replacingOccurrences(of: "$DIR", with: file.deletingLastPathComponent().path)
        #expect(error?.description == expected)
        #expect(error?.description.contains("\n") == false)
    }

    /// The error names the file that defines the offending entry, not just the first in the list.
    @Test func errorsNameTheFileThatDefinesTheEntry() throws {
        let kube = try KubeSandbox()
        let contexts = try kube.write(
            "current-context: x\ncontexts: [{name: x, context: {cluster: c, user: u}}]", to: "a/config")
        let users = try kube.write(
            "users: [{name: u, user: {username: a, password: b}}]\nclusters: [{name: c, cluster: {\(server)}}]",
            to: "b/config")
        let error = kubeconfigError { _ = try kube.loader(files: [contexts, users]).resolve(contextName: nil) }
        #expect(error?.description.hasPrefix("\(users.path): user 'u' (context 'x') uses username/password") == true)
    }
}
