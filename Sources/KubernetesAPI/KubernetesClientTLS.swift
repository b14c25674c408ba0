import Foundation
import NIOSSL
import Synchronization
import MrunSupport

/// Turns a ``ClusterConnection`` into the TLS configuration of its requests, rebuilt only when the
/// client certificate changes (an exec plugin may hand out a new one after a 401), because
/// AsyncHTTPClient pools connections by configuration and parsing PEM on every request is waste.
final class KubernetesTLS: Sendable {
    struct Material: @unchecked Sendable {
        // TLSConfiguration is a value type of immutable certificates and keys; NIOSSL does not
        // declare it Sendable on every version.
        var configuration: TLSConfiguration
        var clientCertificate: ClientCertificate?
        /// When the client certificate stops being valid, for error messages.
        var clientCertificateExpiry: Date?
    }

    private let connection: ClusterConnection
    private let cache = Mutex<Material?>(nil)

    init(connection: ClusterConnection) {
        self.connection = connection
    }

    /// The material of the last request, if any.
    var cachedMaterial: Material? { cache.withLock { $0 } }

    func material() async throws -> Material {
        let certificate = try await connection.clientCertificate()
        if let cached = cache.withLock({ $0 }), cached.clientCertificate == certificate { return cached }
        let material = try build(clientCertificate: certificate)
        cache.withLock { $0 = material }
        return material
    }

    private func build(clientCertificate: ClientCertificate?) throws -> Material {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.minimumTLSVersion = .tlsv12
        if connection.insecureSkipTLSVerify {
            configuration.certificateVerification = .none
        } else if let authority = connection.certificateAuthorityPEM {
            let roots: [NIOSSLCertificate]
            do {
                roots = try NIOSSLCertificate.fromPEMBytes(authority)
            } catch {
                throw invalid("its certificate-authority is not a PEM certificate (\(error))")
            }
            guard !roots.isEmpty else { throw invalid("its certificate-authority holds no PEM certificate") }
            // Only the cluster's own CA: a public CA must not vouch for a private API server.
            configuration.trustRoots = .certificates(roots)
        }
        var expiry: Date?
        if let clientCertificate {
            let chain: [NIOSSLCertificate]
            do {
                chain = try NIOSSLCertificate.fromPEMBytes(clientCertificate.certificatePEM)
            } catch {
                throw invalid("its client-certificate is not a PEM certificate (\(error))")
            }
            guard let leaf = chain.first else { throw invalid("its client-certificate holds no PEM certificate") }
            let key: NIOSSLPrivateKey
            do {
                key = try NIOSSLPrivateKey(bytes: clientCertificate.keyPEM, format: .pem)
            } catch {
                // The error names the failing parser only, never key bytes.
                throw invalid("its client-key is not a PEM RSA or EC private key (\(error))")
            }
            configuration.certificateChain = chain.map { .certificate($0) }
            configuration.privateKey = .privateKey(key)
            expiry = Date(timeIntervalSince1970: TimeInterval(leaf.notValidAfter))
        }
        return Material(
            configuration: configuration, clientCertificate: clientCertificate, clientCertificateExpiry: expiry)
    }

    private func invalid(_ detail: String) -> KubernetesClientError {
        KubernetesClientError(
            .invalidTLSMaterial, server: connection.server.absoluteString, contextName: connection.contextName,
            request: nil, detail: detail)
    }
}
