import Foundation
import MrunSupport

/// Everything an HTTP client needs to talk to one cluster, resolved from a kubeconfig context or the
/// in-cluster config. Its descriptions never show tokens or keys.
public struct ClusterConnection: Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    public var server: URL
    public var contextName: String
    /// The kubeconfig context's namespace (or the pod's, in-cluster).
    public var namespace: String?
    /// nil → the system trust store.
    public var certificateAuthorityPEM: [UInt8]?
    /// The server's certificate is not checked at all; the caller must warn loudly (see ``securityWarning``).
    public var insecureSkipTLSVerify: Bool
    public var tlsServerName: String?
    /// A static client certificate from the kubeconfig; an exec plugin may supply one instead, see
    /// ``clientCertificate()``.
    public var clientCertificatePEM: [UInt8]?
    public var clientKeyPEM: [UInt8]?
    public var credentials: BearerTokenSource?

    public init(
        server: URL, contextName: String, namespace: String? = nil, certificateAuthorityPEM: [UInt8]? = nil,
        insecureSkipTLSVerify: Bool = false, tlsServerName: String? = nil, clientCertificatePEM: [UInt8]? = nil,
        clientKeyPEM: [UInt8]? = nil, credentials: BearerTokenSource? = nil
    ) {
        self.server = server
        self.contextName = contextName
        self.namespace = namespace
        self.certificateAuthorityPEM = certificateAuthorityPEM
        self.insecureSkipTLSVerify = insecureSkipTLSVerify
        self.tlsServerName = tlsServerName
        self.clientCertificatePEM = clientCertificatePEM
        self.clientKeyPEM = clientKeyPEM
        self.credentials = credentials
    }

    /// The bearer token for the next request, or nil when the connection authenticates otherwise.
    /// Token files are read again each time (they rotate); exec plugin tokens come from the cache
    /// until they expire.
    public func bearerToken() async throws -> String? {
        try await credentials?.bearerToken()
    }

    /// The client certificate and key for TLS: the kubeconfig's own, else one an exec plugin returns.
    public func clientCertificate() async throws -> ClientCertificate? {
        if let clientCertificatePEM, let clientKeyPEM {
            return ClientCertificate(certificatePEM: clientCertificatePEM, keyPEM: clientKeyPEM)
        }
        guard case .exec(let plugin) = credentials else { return nil }
        let credential = try await plugin.credential()
        guard let certificate = credential.clientCertificateData, let key = credential.clientKeyData else {
            return nil
        }
        return ClientCertificate(certificatePEM: Array(certificate.utf8), keyPEM: Array(key.utf8))
    }

    /// Forgets a cached exec plugin credential, e.g. after the server answered 401, so the next
    /// request runs the plugin again.
    public func invalidateCredentials() async {
        if case .exec(let plugin) = credentials { await plugin.invalidate() }
    }

    /// A warning for the user when TLS verification is off, nil otherwise.
    public var securityWarning: String? {
        guard insecureSkipTLSVerify else { return nil }
        return "WARNING: context '\(contextName)' sets insecure-skip-tls-verify: the identity of"
            + " \(server.absoluteString) is not checked, so anyone on the network path can read and"
            + " change the traffic, including credentials"
    }

    public var description: String {
        var parts = ["server: \(server.absoluteString)", "context: \(contextName)"]
        if let namespace { parts.append("namespace: \(namespace)") }
        parts.append(certificateAuthorityPEM == nil ? "CA: system trust store" : "CA: from kubeconfig")
        if insecureSkipTLSVerify { parts.append("insecure-skip-tls-verify") }
        if let tlsServerName { parts.append("tls-server-name: \(tlsServerName)") }
        if clientCertificatePEM != nil { parts.append("client certificate: <redacted>") }
        if let credentials { parts.append("credentials: \(credentials)") }
        return "ClusterConnection(\(parts.joined(separator: ", ")))"
    }

    public var debugDescription: String { description }
}

public struct ClientCertificate: Sendable, Hashable, CustomStringConvertible {
    public var certificatePEM: [UInt8]
    public var keyPEM: [UInt8]

    public init(certificatePEM: [UInt8], keyPEM: [UInt8]) {
        self.certificatePEM = certificatePEM
        self.keyPEM = keyPEM
    }

    public var description: String { "ClientCertificate(<redacted>)" }
}

/// Where the bearer token comes from.
public enum BearerTokenSource: Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    case staticToken(String)
    /// Read again for every token: service account and projected tokens rotate.
    case tokenFile(URL)
    case exec(ExecCredentialPlugin)

    public func bearerToken() async throws -> String? {
        switch self {
        case .staticToken(let token):
            return token
        case .tokenFile(let url):
            return try Self.readTokenFile(url)
        case .exec(let plugin):
            return try await plugin.credential().token
        }
    }

    static func readTokenFile(_ url: URL) throws(KubeconfigError) -> String {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            let reason =
                FileManager.default.fileExists(atPath: url.path)
                ? "permission denied or not a regular file" : "no such file"
            throw .tokenFileUnreadable(path: url.path, reason: reason)
        }
        let token = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard !token.isEmpty else { throw .emptyTokenFile(path: url.path) }
        return token
    }

    public var description: String {
        switch self {
        case .staticToken: "token <redacted>"
        case .tokenFile(let url): "token file \(url.path)"
        case .exec(let plugin): "exec plugin \(plugin.command)"
        }
    }

    public var debugDescription: String { description }
}
