import FakeKubernetes
import Foundation
import MrunKit
import Testing

@Suite struct KubeconfigLoadingTests {
    @Test func readsTheDefaultFileInTheHomeDirectory() throws {
        let kube = try KubeSandbox()
        try kube.write(
            """
            apiVersion: v1
            kind: Config
            current-context: dev
            preferences: {}
            clusters:
            - name: c
              cluster:
                server: https://dev.example.com:6443
                proxy-url: http://proxy:3128
            users:
            - name: u
              user:
                token: dev-token
            contexts:
            - name: dev
              context:
                cluster: c
                user: u
                namespace: team
            """, to: ".kube/config", in: kube.home)
        let loader = kube.loader()
        #expect(loader.candidateFiles == [kube.defaultKubeconfig])
        let connection = try loader.resolve(contextName: nil)
        #expect(connection.server.absoluteString == "https://dev.example.com:6443")
        #expect(connection.contextName == "dev")
        #expect(connection.namespace == "team")
        #expect(connection.certificateAuthorityPEM == nil)
        #expect(connection.insecureSkipTLSVerify == false)
        #expect(connection.securityWarning == nil)
        guard case .staticToken(let token) = connection.credentials else {
            Issue.record("expected a static token, got \(String(describing: connection.credentials))")
            return
        }
        #expect(token == "dev-token")
    }

    /// Three files and a missing one: for each name the first file wins with its whole entry, and
    /// current-context comes from the first file that sets a non-empty one.
    @Test func mergesFilesWithKubectlsRules() async throws {
        let kube = try KubeSandbox()
        let first = try kube.write(
            """
            current-context: ""
            clusters:
            - name: shared
              cluster:
                server: https://first.example.com
            users:
            - name: shared-user
              user:
                token: first-token
            contexts:
            - name: alpha
              context: {cluster: shared, user: shared-user}
            """, to: "one/config")
        let second = try kube.write(
            """
            current-context: beta
            clusters:
            - name: shared
              cluster:
                server: https://second.example.com
                tls-server-name: second.internal
            - name: only-second
              cluster:
                server: https://only-second.example.com
            users:
            - name: shared-user
              user:
                token: second-token
            contexts:
            - name: alpha
              context: {cluster: only-second}
            - name: beta
              context: {cluster: shared, user: shared-user, namespace: second-ns}
            """, to: "two/config")
        let third = try kube.write(
            """
            current-context: gamma
            contexts:
            - name: gamma
              context: {cluster: only-second}
            - name: beta
              context: {cluster: only-second, namespace: third-ns}
            """, to: "three/config")
        let missing = kube.root.appendingPathComponent("missing/config")

        let merged = try kube.loader(files: [first, missing, second, third]).load()
        #expect(merged.files == [first, second, third])
        #expect(merged.currentContext == "beta")
        #expect(merged.clusters["shared"]?.value.server == "https://first.example.com")
        #expect(merged.clusters["shared"]?.value.tlsServerName == nil, "entries are not merged field by field")
        #expect(merged.clusters["shared"]?.file == first)
        #expect(merged.clusters["only-second"]?.file == second)
        #expect(merged.contexts["alpha"]?.value.cluster == "shared")
        #expect(merged.contexts["beta"]?.value.namespace == "second-ns")
        #expect(merged.contexts["gamma"]?.file == third)

        let beta = try kube.loader(files: [first, missing, second, third]).resolve(contextName: nil)
        #expect(beta.contextName == "beta")
        #expect(beta.server.absoluteString == "https://first.example.com")
        #expect(beta.namespace == "second-ns")
        #expect(try await beta.bearerToken() == "first-token")

        let reversed = kube.loader(files: [third, second, first])
        #expect(try reversed.load().currentContext == "gamma")
        let betaReversed = try reversed.resolve(contextName: "beta")
        #expect(betaReversed.namespace == "third-ns")
        #expect(betaReversed.server.absoluteString == "https://only-second.example.com")
        let alpha = try reversed.resolve(contextName: "alpha")
        #expect(alpha.server.absoluteString == "https://only-second.example.com")
        #expect(alpha.credentials == nil, "a context without a user has no credentials")
    }

    @Test func kubeconfigVariableIsSplitDeduplicatedAndTakenFromTheCurrentDirectory() throws {
        let kube = try KubeSandbox()
        let loader = kube.loader(["KUBECONFIG": "a/config::/abs/config:a/../a/config:"])
        #expect(
            loader.candidateFiles == [
                kube.root.appendingPathComponent("a/config"), URL(fileURLWithPath: "/abs/config"),
            ])
        #expect(kube.loader(["KUBECONFIG": ""]).candidateFiles == [kube.defaultKubeconfig])
    }

    @Test func anEmptyFileInTheListIsAnEmptyConfig() throws {
        let kube = try KubeSandbox()
        let empty = try kube.write("# nothing yet\n", to: "empty")
        let real = try kube.write(
            """
            current-context: x
            clusters: [{name: c, cluster: {server: "https://x.example.com"}}]
            contexts: [{name: x, context: {cluster: c}}]
            users: null
            """, to: "real")
        let connection = try kube.loader(files: [empty, real]).resolve(contextName: nil)
        #expect(connection.server.absoluteString == "https://x.example.com")
    }

    /// Relative paths are taken from the directory of the file that holds them, as kubectl does; an
    /// exec command is resolved only when it contains a '/'.
    @Test func relativePathsResolveAgainstTheirOwnFilesDirectory() async throws {
        let kube = try KubeSandbox()
        let dir = kube.root.appendingPathComponent("configs/team")
        try kube.write(FakePEM.ca, to: "certs/ca.pem", in: dir)
        try kube.write(FakePEM.certificate, to: "client.pem", in: dir.deletingLastPathComponent())
        try kube.write(FakePEM.key, to: "keys/client.key", in: dir)
        try kube.write("file-token\n", to: "token", in: dir)
        let config = try kube.write(
            """
            current-context: team
            clusters:
            - name: c
              cluster:
                server: https://team.example.com
                certificate-authority: certs/ca.pem
            users:
            - name: u
              user:
                client-certificate: ../client.pem
                client-key: ./keys/client.key
                tokenFile: token
            - name: e
              user:
                exec: {command: bin/plugin, apiVersion: client.authentication.k8s.io/v1beta1}
            - name: p
              user:
                exec: {command: gke-gcloud-auth-plugin, apiVersion: client.authentication.k8s.io/v1beta1}
            contexts:
            - name: team
              context: {cluster: c, user: u}
            """, to: "config", in: dir)
        let loader = kube.loader(files: [config])
        let merged = try loader.load()
        #expect(merged.clusters["c"]?.value.certificateAuthority == dir.appendingPathComponent("certs/ca.pem").path)
        #expect(
            merged.users["u"]?.value.clientCertificate == kube.root.appendingPathComponent("configs/client.pem").path)
        #expect(merged.users["e"]?.value.exec?.command == dir.appendingPathComponent("bin/plugin").path)
        #expect(merged.users["p"]?.value.exec?.command == "gke-gcloud-auth-plugin")

        let connection = try loader.resolve(contextName: nil)
        #expect(connection.certificateAuthorityPEM == Array(FakePEM.ca.utf8))
        #expect(connection.clientCertificatePEM == Array(FakePEM.certificate.utf8))
        #expect(connection.clientKeyPEM == Array(FakePEM.key.utf8))
        #expect(try await connection.bearerToken() == "file-token")
    }

    @Test(arguments: [
        (
            "clusters:\n- name: c\n  cluster: {server: [\n",
            "$FILE:4:1: invalid YAML: did not find expected node content while parsing a flow node"
        ),
        (
            "clusters:\n- name: c\n  cluster:\n    server: https://x\n    insecure-skip-tls-verify: maybe\n",
            "$FILE:5:31: clusters[0].cluster.insecure-skip-tls-verify: expected true or false"
        ),
        (
            "contexts:\n- context: {cluster: c}\n",
            "$FILE:2:3: contexts[0]: missing key 'name'"
        ),
        (
            "users:\n- name: u\n  user:\n    exec:\n      args: a-string\n",
            "$FILE:5:13: users[0].user.exec.args: expected a list"
        ),
        (
            "clusters:\n- name: c\n  cluster: {server: https://a}\n- name: c\n  cluster: {server: https://b}\n",
            "$FILE:4:9: clusters lists the name 'c' twice; keep one"
        ),
        (
            "contexts: {name: x}\n",
            "$FILE:1:11: contexts: expected a list"
        ),
        (
            "clusters:\n- name: c\n  cluster: https://x\n",
            "$FILE:3:12: clusters[0].cluster: expected a mapping of 'key: value' lines"
        ),
        (
            "- just\n- a list\n",
            "$FILE:1:1: expected a kubeconfig as a mapping of 'key: value' lines"
        ),
    ])
    func malformedFilesNameFileLineAndColumn(text: String, expected: String) throws {
        let kube = try KubeSandbox()
        let file = try kube.write(text, to: "bad/config")
        let error = kubeconfigError { _ = try kube.loader(files: [file]).load() }
        #expect(error?.description == expected.replacingOccurrences(of: "$FILE", with: file.path))
    }

    @Test func aDirectoryInTheListIsAnError() throws {
        let kube = try KubeSandbox()
        let directory = kube.root.appendingPathComponent("dir")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let error = kubeconfigError { _ = try kube.loader(files: [directory]).load() }
        #expect(error?.description == "\(directory.path): is a directory, not a kubeconfig; give the path of a file")
    }
}
