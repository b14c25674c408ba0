import AsyncHTTPClient
import NIOCore
import Synchronization
import MrunSupport

/// The HTTP connections of one mrun process to its clusters. Keep one (the environment's) so that
/// every ``KubernetesClient`` reuses the same pooled TLS connections, and shut it down before exiting.
///
/// AsyncHTTPClient pools connections by host, port and TLS configuration, so clients with different
/// credentials share this object safely. Only a kubeconfig `tls-server-name` needs a client of its
/// own: the name checked in the certificate differs from the host connected to, which
/// AsyncHTTPClient expresses only as a client-wide DNS override.
public final class KubernetesHTTPClient: Sendable {
    public struct Configuration: Sendable {
        /// Until the TCP connection and the TLS handshake are established.
        public var connectTimeout: Duration = .seconds(10)
        /// HTTP/1.1 connections per server; API servers that speak HTTP/2 multiplex on one.
        public var maxConnectionsPerHost = 32
        /// Idle pooled connections are closed after this.
        public var idleTimeout: Duration = .seconds(60)

        public init() {}
    }

    public let configuration: Configuration
    private let clients: Mutex<State>
    /// The TLS material of the clients using this one.
    let tlsMaterials = TLSMaterials()

    private struct State: ~Copyable {
        var byOverride: [String: HTTPClient] = [:]
        var isShutDown = false
    }

    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
        clients = Mutex(State())
    }

    /// The client for a server reached at `host` whose certificate is checked for `serverName`.
    func client(serverName: String?, host: String) throws -> HTTPClient {
        let override = serverName.flatMap { $0 == host ? nil : $0 }
        let key = override.map { "\($0)>\(host)" } ?? ""
        return try clients.withLock { state in
            if state.isShutDown { throw HTTPClientError.alreadyShutdown }
            if let existing = state.byOverride[key] { return existing }
            var config = HTTPClient.Configuration()
            // Credentials must never follow a redirect to another host.
            config.redirectConfiguration = .disallow
            // Reads are timed per request instead: a followed log may stay quiet for hours.
            config.timeout = .init(connect: configuration.connectTimeout.timeAmount, read: nil)
            config.connectionPool = .init(
                idleTimeout: configuration.idleTimeout.timeAmount,
                concurrentHTTP1ConnectionsPerHostSoftLimit: configuration.maxConnectionsPerHost)
            // AsyncHTTPClient would retry a failed connection until the deadline, even an untrusted
            // certificate; KubernetesClient retries what is worth it, and reports the rest at once.
            config.connectionPool.retryConnectionEstablishment = false
            config.decompression = .disabled
            if let override { config.dnsOverride = [override: host] }
            let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: config)
            state.byOverride[key] = client
            return client
        }
    }

    /// Closes every connection; later requests fail. Call once, when the process is done with its
    /// clusters.
    public func shutdown() async throws {
        let all = clients.withLock { state in
            state.isShutDown = true
            let all = Array(state.byOverride.values)
            state.byOverride = [:]
            return all
        }
        for client in all {
            try await client.shutdown()
        }
    }
}

extension Duration {
    var seconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }

    /// Saturates rather than trapping on durations beyond NIO's range.
    var timeAmount: TimeAmount {
        .nanoseconds(Int64(max(0, min(seconds * 1e9, 9e18))))
    }
}
