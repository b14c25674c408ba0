import Foundation
import MrunSupport

/// Checks one context of a merged kubeconfig the way kubectl validates it and gathers what a client
/// needs to connect: server, TLS material and the credential source.
struct ConnectionBuilder {
    let config: Kubeconfig
    let contextName: String
    let context: Kubeconfig.Located<KubeconfigContext>
    let plugin: ExecCredentialPlugin.Environment

    func build() throws(KubeconfigError) -> ClusterConnection {
        let contextFile = context.file.path
        guard let clusterName = nonEmpty(context.value.cluster) else {
            throw .contextWithoutCluster(context: contextName, file: contextFile)
        }
        guard let cluster = config.clusters[clusterName] else {
            throw .missingCluster(context: contextName, cluster: clusterName, file: contextFile)
        }
        var user: Kubeconfig.Located<KubeconfigUser>?
        if let userName = nonEmpty(context.value.user) {
            guard let found = config.users[userName] else {
                throw .missingUser(context: contextName, user: userName, file: contextFile)
            }
            user = found
        }
        var connection = try clusterPart(name: clusterName, cluster, user: user?.value)
        if let user, let userName = context.value.user {
            try addUser(name: userName, user, to: &connection)
        }
        return connection
    }

    private func clusterPart(
        name: String, _ located: Kubeconfig.Located<KubeconfigCluster>, user: KubeconfigUser?
    ) throws(KubeconfigError) -> ClusterConnection {
        let cluster = located.value
        let file = located.file.path
        let owner = "cluster \(quoted: name)"
        guard let server = nonEmpty(cluster.server) else {
            throw .clusterWithoutServer(cluster: name, context: contextName, file: file)
        }
        let insecure = cluster.insecureSkipTLSVerify ?? false
        let ca = try material(
            file: (cluster.certificateAuthority, "certificate-authority"),
            data: (cluster.certificateAuthorityData, "certificate-authority-data"), owner: owner, in: located.file)
        if insecure, ca != nil {
            throw .insecureWithCertificateAuthority(cluster: name, context: contextName, file: file)
        }
        let hasClientCertificate =
            nonEmpty(user?.clientCertificate) != nil || nonEmpty(user?.clientCertificateData) != nil
        // kubectl's rule for a server without a scheme: https when any TLS setting is present.
        let defaultTLS = ca != nil || insecure || hasClientCertificate
        guard let url = Self.serverURL(server, defaultTLS: defaultTLS) else {
            throw .invalidServer(server: server, cluster: name, context: contextName, file: file)
        }
        return ClusterConnection(
            server: url, contextName: contextName, namespace: nonEmpty(context.value.namespace),
            certificateAuthorityPEM: ca, insecureSkipTLSVerify: insecure,
            tlsServerName: nonEmpty(cluster.tlsServerName))
    }

    private func addUser(
        name: String, _ located: Kubeconfig.Located<KubeconfigUser>, to connection: inout ClusterConnection
    ) throws(KubeconfigError) {
        let user = located.value
        let file = located.file.path
        let owner = "user \(quoted: name)"
        if nonEmpty(user.username) != nil || nonEmpty(user.password) != nil {
            throw .basicAuth(user: name, context: contextName, file: file)
        }
        if let provider = user.authProvider {
            throw .authProvider(name: provider.name ?? "", user: name, context: contextName, file: file)
        }
        let certificate = try material(
            file: (user.clientCertificate, "client-certificate"),
            data: (user.clientCertificateData, "client-certificate-data"), owner: owner, in: located.file)
        let key = try material(
            file: (user.clientKey, "client-key"), data: (user.clientKeyData, "client-key-data"),
            owner: owner, in: located.file)
        switch (certificate, key) {
        case (.some, nil): throw .certificateWithoutKey(user: name, context: contextName, file: file)
        case (nil, .some): throw .keyWithoutCertificate(user: name, context: contextName, file: file)
        default: break
        }
        connection.clientCertificatePEM = certificate
        connection.clientKeyPEM = key
        // kubectl's precedence: a token file (it rotates) over a static token, and either over exec.
        if let tokenFile = nonEmpty(user.tokenFile) {
            guard FileManager.default.fileExists(atPath: tokenFile) else {
                throw .missingFile(field: "tokenFile", path: tokenFile, owner: owner, context: contextName, file: file)
            }
            connection.credentials = .tokenFile(URL(fileURLWithPath: tokenFile))
        } else if let token = nonEmpty(user.token) {
            connection.credentials = .staticToken(token)
        } else if let exec = user.exec {
            let plugin = try execPlugin(exec, user: name, file: file, connection: connection)
            connection.credentials = .exec(plugin)
        }
    }

    private func execPlugin(
        _ exec: KubeconfigExec, user: String, file: String, connection: ClusterConnection
    ) throws(KubeconfigError) -> ExecCredentialPlugin {
        func invalid(_ problem: String) -> KubeconfigError {
            .invalidExec(user: user, context: contextName, file: file, problem: problem)
        }
        guard let command = nonEmpty(exec.command) else {
            throw invalid("'command' is missing; give the plugin's program, e.g. gke-gcloud-auth-plugin")
        }
        guard let apiVersion = nonEmpty(exec.apiVersion) else {
            throw invalid(
                "'apiVersion' is missing; use \(ExecCredentialPlugin.supportedVersions.joined(separator: " or "))")
        }
        guard ExecCredentialPlugin.supportedVersions.contains(apiVersion) else {
            throw invalid(
                "apiVersion \(quoted: apiVersion) is not supported; use"
                    + " \(ExecCredentialPlugin.supportedVersions.joined(separator: " or "))")
        }
        // client-go defaults the mode for v1beta1 only; v1 must state it.
        let mode = nonEmpty(exec.interactiveMode) ?? (apiVersion.hasSuffix("/v1beta1") ? "IfAvailable" : nil)
        switch mode {
        case nil:
            throw invalid("'interactiveMode' is missing; set it to Never or IfAvailable")
        case "Never", "IfAvailable":
            break
        case "Always":
            throw invalid(
                "interactiveMode 'Always' needs a terminal, which mrun never gives the plugin; use IfAvailable")
        case .some(let other):
            throw invalid("interactiveMode \(quoted: other) is not one of Never, IfAvailable, Always")
        }
        if let unnamed = exec.env?.firstIndex(where: { $0.name.isEmpty }) {
            throw invalid("env[\(unnamed)] has no name")
        }
        var clusterInfo: ExecCredentialPlugin.ClusterInfo?
        if exec.provideClusterInfo == true {
            clusterInfo = ExecCredentialPlugin.ClusterInfo(
                server: connection.server.absoluteString, tlsServerName: connection.tlsServerName,
                insecureSkipTLSVerify: connection.insecureSkipTLSVerify ? true : nil,
                certificateAuthorityData: connection.certificateAuthorityPEM.map { Data($0).base64EncodedString() })
        }
        var normalized = exec
        normalized.command = command
        normalized.interactiveMode = mode
        return ExecCredentialPlugin(
            config: normalized, userName: user, clusterInfo: clusterInfo, environment: plugin)
    }

    /// PEM bytes from a path or from base64 data; kubectl refuses both at once.
    private func material(
        file: (path: String?, field: String), data: (value: String?, field: String), owner: String,
        in kubeconfig: URL
    ) throws(KubeconfigError) -> [UInt8]? {
        let origin = kubeconfig.path
        switch (nonEmpty(file.path), nonEmpty(data.value)) {
        case (.some, .some):
            throw .conflictingFields(
                first: file.field, second: data.field, owner: owner, context: contextName, file: origin)
        case (.some(let path), nil):
            guard FileManager.default.fileExists(atPath: path) else {
                throw .missingFile(field: file.field, path: path, owner: owner, context: contextName, file: origin)
            }
            do {
                return [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
            } catch {
                throw .unreadableFile(
                    field: file.field, path: path, owner: owner, context: contextName, file: origin,
                    reason: "permission denied or not a regular file; check it with ls -l")
            }
        case (nil, .some(let encoded)):
            // Go's base64 decoder, which kubectl uses, skips line breaks but nothing else.
            let compact = encoded.filter { $0 != "\n" && $0 != "\r" }
            guard let bytes = Data(base64Encoded: compact) else {
                throw .invalidBase64(field: data.field, owner: owner, context: contextName, file: origin)
            }
            return [UInt8](bytes)
        case (nil, nil):
            return nil
        }
    }

    /// kubectl accepts `host:port` without a scheme and picks https only when TLS is configured.
    static func serverURL(_ server: String, defaultTLS: Bool) -> URL? {
        let text = server.contains("://") ? server : (defaultTLS ? "https://" : "http://") + server
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(),
            scheme == "https" || scheme == "http", let host = url.host, !host.isEmpty
        else { return nil }
        // Foundation keeps any number as the port; the HTTP client would trap narrowing it to 16 bits.
        if let port = url.port, !(1...65535).contains(port) { return nil }
        return url
    }

    private func nonEmpty(_ value: String?) -> String? {
        guard let value, !value.isEmpty else { return nil }
        return value
    }
}
