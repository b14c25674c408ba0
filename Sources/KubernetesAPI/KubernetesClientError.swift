import Foundation
import MrunSupport

/// A request to the Kubernetes API server that got no HTTP answer (or one mrun cannot read):
/// timeouts, lost connections, TLS failures. Answers with an error status are ``KubernetesError``.
public struct KubernetesClientError: UserFacingError, Equatable {
    public enum Kind: Sendable, Equatable {
        /// No complete answer within the request timeout, on every attempt.
        case timedOut(seconds: Double)
        /// The connection broke mid-request, on every attempt.
        case connectionLost
        /// No connection could be opened (refused, no route, unknown host).
        case unreachable
        /// The server's certificate is not signed by the trusted certificate authority.
        case untrustedServerCertificate
        /// The server's certificate is trusted but not issued for the name mrun checks.
        case serverNameMismatch(name: String)
        case tlsFailed
        /// Anything else the HTTP layer refused, e.g. a request after ``KubernetesHTTPClient/shutdown()``.
        case failed
        /// The kubeconfig's certificate authority or client certificate/key cannot be loaded.
        case invalidTLSMaterial
        /// A 2xx answer whose body is not what the API promises.
        case invalidResponse
        /// The log request answered 204: the pod is not scheduled yet, so there is no log.
        case logNotAvailableYet
    }

    public var kind: Kind
    /// `https://host:port` of the cluster.
    public var server: String
    public var contextName: String
    public var request: Kubernetes.RequestInfo?
    /// The transport's own words, for the curious; never holds credentials.
    public var detail: String
    public var attempts: Int

    public init(
        _ kind: Kind, server: String, contextName: String, request: Kubernetes.RequestInfo?, detail: String,
        attempts: Int = 1
    ) {
        self.kind = kind
        self.server = server
        self.contextName = contextName
        self.request = request
        self.detail = detail
        self.attempts = attempts
    }

    /// Whether repeating the request later may succeed.
    public var isTransient: Bool {
        switch kind {
        case .timedOut, .connectionLost, .unreachable, .logNotAvailableYet: return true
        default: return false
        }
    }

    public var description: String {
        let action = KubernetesError.action(request)
        let tries = attempts > 1 ? ", \(attempts) attempts" : ""
        switch kind {
        case .timedOut(let seconds):
            return "the Kubernetes API server \(server) did not answer within \(Self.format(seconds)) s to \(action)"
                + " (context \(quoted: contextName)\(tries)); check the network path to the cluster (VPN, proxy,"
                + " firewall) and whether its control plane is overloaded"
        case .connectionLost:
            return "the connection to the Kubernetes API server \(server) broke while trying to \(action)"
                + " (context \(quoted: contextName)\(tries): \(detail)); check the network path to the cluster"
        case .unreachable:
            return
                "cannot connect to the Kubernetes API server \(server) of context \(quoted: contextName) to \(action)"
                + " (\(detail)\(tries)); check that the cluster is running and the kubeconfig's server address"
        case .untrustedServerCertificate:
            return "the certificate of the Kubernetes API server \(server) is not trusted (\(detail)): it is not"
                + " signed by the certificate authority of context \(quoted: contextName); check the cluster's"
                + " certificate-authority-data in the kubeconfig, it may belong to another cluster"
        case .serverNameMismatch(let name):
            return
                "the certificate of the Kubernetes API server \(server) is not issued for \(quoted: name) (\(detail));"
                + " check the server address of context \(quoted: contextName) or set the cluster's tls-server-name to a"
                + " name in the certificate"
        case .tlsFailed:
            return "the TLS connection to the Kubernetes API server \(server) of context \(quoted: contextName) failed"
                + " to \(action): \(detail)"
        case .failed:
            return "the request to the Kubernetes API server \(server) to \(action) failed: \(detail)"
        case .invalidTLSMaterial:
            return "the kubeconfig of context \(quoted: contextName) holds unusable TLS material: \(detail)"
        case .invalidResponse:
            return "the Kubernetes API server \(server) sent an unreadable answer to \(action): \(detail)"
        case .logNotAvailableYet:
            return "there is no log to \(action) yet (204 No Content): the pod is not scheduled on a node;"
                + " try again once it runs"
        }
    }

    private static func format(_ seconds: Double) -> String {
        seconds == seconds.rounded() ? String(Int(seconds)) : String(format: "%.3g", seconds)
    }
}
