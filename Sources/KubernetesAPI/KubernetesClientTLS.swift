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
    private let shared: TLSMaterials?

    init(connection: ClusterConnection, shared: TLSMaterials? = nil) {
        self.connection = connection
        self.shared = shared
    }

    /// The material of the last request, if any.
    var cachedMaterial: Material? { cache.withLock { $0 } }

    func material() async throws -> Material {
        let certificate = try await connection.clientCertificate()
        if let cached = cache.withLock({ $0 }), cached.clientCertificate == certificate { return cached }
        let key = TLSMaterials.Key(
            authority: connection.certificateAuthorityPEM, skipsVerification: connection.insecureSkipTLSVerify,
            certificate: certificate)
        let material =
            try shared?.material(for: key) { try build(clientCertificate: certificate) }
            ?? build(clientCertificate: certificate)
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

/// The TLS material of one process's clients, by what it is built from: clients of the same
/// credentials get the same configuration, so AsyncHTTPClient's pool (which keys connections by
/// it) gives them the same connection, the one a warm-up opened (``KubernetesClient/warmUp()``).
/// Parsing a client key and its certificates again for each client was also a tenth of a launch.
final class TLSMaterials: Sendable {
    struct Key: Hashable {
        var authority: [UInt8]?
        var skipsVerification: Bool
        var certificate: ClientCertificate?
    }

    private let materials = Mutex<[Key: KubernetesTLS.Material]>([:])

    /// The material for `key`, built once; a build that fails is tried again by the next caller.
    func material(for key: Key, build: () throws -> KubernetesTLS.Material) throws -> KubernetesTLS.Material {
        try materials.withLock { materials in
            if let known = materials[key] { return known }
            let material = try build()
            materials[key] = material
            return material
        }
    }
}
