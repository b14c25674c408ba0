import Foundation

import KubernetesAPI
import MrunSupport

/// Kubeconfig files pointing at a ``FakeKubernetesServer``, and connections resolved from them the
/// way mrun resolves a real one.
extension FakeKubernetesServer {
    /// Writes a kubeconfig whose current context reaches this server as `user`.
    /// - Parameters:
    ///   - host: the host of the server URL (`127.0.0.1` or `localhost`).
    ///   - tlsServerName: the cluster's `tls-server-name`.
    package func kubeconfig(
        for user: User, authority: Authority = .cluster, host: String = "127.0.0.1", tlsServerName: String? = nil,
        namespace: String = "default"
    ) throws -> URL {
        var cluster = ["server: https://\(host):\(port)"]
        switch authority {
        case .cluster: cluster.append("certificate-authority-data: \(Self.base64(pki.caPEM))")
        case .other: cluster.append("certificate-authority-data: \(Self.base64(pki.otherCAPEM))")
        case .system: break
        case .insecureSkipVerify: cluster.append("insecure-skip-tls-verify: true")
        }
        if let tlsServerName { cluster.append("tls-server-name: \(tlsServerName)") }
        var credentials: [String] = []
        switch user {
        case .certificate(let name):
            guard let credential = pki.clients[name] else {
                throw FixtureError(description: "no client certificate '\(name)' in the fake PKI")
            }
            credentials = [
                "client-certificate-data: \(Self.base64(credential.certificatePEM))",
                "client-key-data: \(Self.base64(credential.keyPEM))",
            ]
        case .token(let token):
            credentials = ["token: \(token)"]
        case .anonymous:
            credentials = []
        case .exec(let command, let arguments):
            let quoted = arguments.map { "\"\($0)\"" }.joined(separator: ", ")
            credentials = [
                "exec:", "    apiVersion: client.authentication.k8s.io/v1", "    command: \(command)",
                "    args: [\(quoted)]", "    interactiveMode: Never",
            ]
        }
        let userBlock = credentials.isEmpty ? "{}" : "\n    " + credentials.joined(separator: "\n    ")
        let text = """
            apiVersion: v1
            kind: Config
            current-context: fake
            clusters:
            - name: fake
              cluster:
                \(cluster.joined(separator: "\n    "))
            users:
            - name: fake-user
              user: \(userBlock)
            contexts:
            - name: fake
              context: {cluster: fake, user: fake-user, namespace: \(namespace)}
            """
        let file = workDirectory.appendingPathComponent("kubeconfig-\(UUID().uuidString)")
        try Data(text.utf8).write(to: file)
        return file
    }

    /// The ``ClusterConnection`` mrun would resolve from ``kubeconfig(for:authority:host:tlsServerName:namespace:)``.
    package func connection(
        for user: User, authority: Authority = .cluster, host: String = "127.0.0.1", tlsServerName: String? = nil
    ) throws -> ClusterConnection {
        let file = try kubeconfig(for: user, authority: authority, host: host, tlsServerName: tlsServerName)
        let home = workDirectory.appendingPathComponent("home-\(UUID().uuidString)")
        let variables = [
            "KUBECONFIG": file.path, "HOME": home.path, "MRUN_HOME": home.appendingPathComponent("mrun").path,
            "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin",
        ]
        let loader = KubeconfigLoader(
            host: HostEnvironment(variables: variables, homeDirectory: home, currentDirectory: workDirectory))
        return try loader.resolve(contextName: nil)
    }

    private static func base64(_ text: String) -> String {
        Data(text.utf8).base64EncodedString()
    }
}
