import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import NIOPosix
import NIOSSL
import MrunSupport

/// One HTTP exchange with the API server, and what its failures mean for a retry.
extension KubernetesClient {
    /// An answer read to its end, whatever its status.
    struct Complete: Sendable {
        var status: Int
        var headers: HTTPHeaders
        var body: Data
    }

    enum Reply: Sendable {
        case complete(Complete)
        /// A 2xx stream; the caller reads the body.
        case streaming(HTTPClientResponse)
    }

    /// Sends once and reads the whole answer within the request timeout. Throws
    /// ``TransportFailure`` for a failed exchange; errors of the credential sources (an exec plugin
    /// that fails) pass through unchanged.
    func sendOnce(_ request: APIRequest) async throws -> Complete {
        let (client, prepared) = try await prepare(request)
        return try await transportFailures {
            let response = try await client.execute(prepared, timeout: options.requestTimeout.timeAmount)
            return try await complete(response)
        }
    }

    /// Sends once and waits for the answer's headers only; a 2xx body is left to the caller.
    func openOnce(_ request: APIRequest) async throws -> Reply {
        let (client, prepared) = try await prepare(request)
        return try await transportFailures {
            let response = try await Self.withHeadTimeout(options.requestTimeout) {
                try await client.execute(prepared, deadline: .distantFuture)
            }
            guard (200..<300).contains(response.status.code), response.status != .noContent else {
                return .complete(try await complete(response))
            }
            return .streaming(response)
        }
    }

    private func complete(_ response: HTTPClientResponse) async throws -> Complete {
        let body = try await response.body.collect(upTo: options.maxResponseBytes)
        return Complete(status: Int(response.status.code), headers: response.headers, body: Data(buffer: body))
    }

    private func prepare(_ request: APIRequest) async throws -> (HTTPClient, HTTPClientRequest) {
        let client: HTTPClient
        do {
            client = try http.client(serverName: connection.tlsServerName, host: connection.server.host ?? "")
        } catch {
            throw TransportFailure(error, timeout: options.requestTimeout)
        }
        do {
            return (client, try await httpRequest(request))
        } catch let error as KubernetesClientError {
            throw TransportFailure(kind: .fatal(error))
        }
    }

    private func transportFailures<Result>(_ body: () async throws -> Result) async throws -> Result {
        do {
            return try await body()
        } catch let error as CancellationError {
            throw error
        } catch {
            throw TransportFailure(error, timeout: options.requestTimeout)
        }
    }

    /// The answer's headers must come within `timeout`; the body of a stream may take forever.
    static func withHeadTimeout(
        _ timeout: Duration, _ body: @escaping @Sendable () async throws -> HTTPClientResponse
    ) async throws -> HTTPClientResponse {
        try await withThrowingTaskGroup(of: HTTPClientResponse?.self) { group in
            group.addTask { try await body() }
            group.addTask {
                try await Task.sleep(for: timeout)
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let response = first else {
                throw HTTPClientError.deadlineExceeded
            }
            return response
        }
    }

    private func httpRequest(_ request: APIRequest) async throws -> HTTPClientRequest {
        var prepared = HTTPClientRequest(url: url(for: request))
        prepared.method = request.method
        prepared.headers.add(name: "Accept", value: request.accept)
        prepared.headers.add(name: "User-Agent", value: options.userAgent)
        if let token = try await connection.bearerToken() {
            prepared.headers.add(name: "Authorization", value: "Bearer \(token)")
        }
        if let body = request.body {
            prepared.headers.add(name: "Content-Type", value: "application/json")
            prepared.body = .bytes(ByteBuffer(data: body))
        }
        prepared.tlsConfiguration = try await tls.material().configuration
        return prepared
    }

    /// The server URL may carry a path prefix (a proxy in front of the API server), kept as is.
    /// With a tls-server-name the request names that host; ``KubernetesHTTPClient`` maps it back.
    func url(for request: APIRequest) -> String {
        var base = connection.server.absoluteString
        if let serverName = connection.tlsServerName, let host = connection.server.host, serverName != host,
            var components = URLComponents(url: connection.server, resolvingAgainstBaseURL: false)
        {
            components.host = serverName
            base = components.string ?? base
        }
        while base.hasSuffix("/") { base.removeLast() }
        let query = request.query.map { "\($0.name)=\(Self.percentEncoded($0.value))" }.joined(separator: "&")
        return base + request.path + (query.isEmpty ? "" : "?" + query)
    }

    private static let unreserved = CharacterSet(
        charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")

    /// Spaces as `%20` and `/`, `=`, `,` escaped, as kubectl sends label selectors.
    static func percentEncoded(_ value: String) -> String {
        value.addingPercentEncoding(withAllowedCharacters: unreserved) ?? value
    }

    func clientError(_ failure: TransportFailure, request: Kubernetes.RequestInfo?, attempts: Int)
        -> KubernetesClientError
    {
        let server = connection.server.absoluteString
        let make = { (kind: KubernetesClientError.Kind) in
            KubernetesClientError(
                kind, server: server, contextName: connection.contextName, request: request, detail: failure.detail,
                attempts: attempts)
        }
        switch failure.kind {
        case .fatal(var error):
            error.request = error.request ?? request
            return error
        case .timedOut: return make(.timedOut(seconds: options.requestTimeout.seconds))
        case .connectionLost: return make(.connectionLost)
        case .unreachable: return make(.unreachable)
        case .untrusted: return make(.untrustedServerCertificate)
        case .nameMismatch:
            return make(.serverNameMismatch(name: connection.tlsServerName ?? connection.server.host ?? ""))
        case .tls: return make(.tlsFailed)
        case .failed: return make(.failed)
        }
    }
}

/// A failed exchange, sorted by what a retry can do about it.
package struct TransportFailure: Error, Sendable {
    package enum Kind: Sendable {
        case timedOut
        case connectionLost
        /// Refused or unroutable: the request never left.
        case unreachable
        case untrusted
        case nameMismatch
        case tls
        case failed
        case fatal(KubernetesClientError)
    }

    package var kind: Kind
    package var detail = ""

    init(kind: Kind, detail: String = "") {
        self.kind = kind
        self.detail = detail
    }

    package init(_ error: any Error, timeout: Duration) {
        let text = String(describing: error)
        detail = text
        if let error = error as? HTTPClientError {
            switch error {
            case .deadlineExceeded, .readTimeout, .writeTimeout:
                kind = .timedOut
                detail = "no answer within \(timeout.seconds) s"
            case .connectTimeout, .tlsHandshakeTimeout:
                kind = .unreachable
                detail = "connect timeout"
            case .remoteConnectionClosed, .uncleanShutdown, .cancelled:
                kind = .connectionLost
                detail = "the server closed the connection"
            case .alreadyShutdown:
                kind = .failed
                detail = "mrun's HTTP client was already shut down"
            default:
                kind = .failed
            }
            return
        }
        if text.contains("CERTIFICATE_VERIFY_FAILED") {
            kind = .untrusted
            detail = "certificate verify failed"
        } else if let extra = error as? NIOSSLExtraError, extra == .failedToValidateHostname {
            kind = .nameMismatch
            detail = "hostname validation failed"
        } else if error is NIOConnectionError {
            kind = .unreachable
            detail = "connection refused or no route"
        } else if let ioError = error as? IOError,
            [ECONNREFUSED, EHOSTUNREACH, ENETUNREACH].contains(ioError.errnoCode)
        {
            kind = .unreachable
        } else if error is IOError || error is ChannelError || error as? NIOSSLError == .uncleanShutdown {
            kind = .connectionLost
        } else if error is NIOSSLError || error is BoringSSLError {
            kind = .tls
        } else {
            kind = .connectionLost
        }
    }

    var isRetryable: Bool {
        switch kind {
        case .timedOut, .connectionLost, .unreachable: return true
        case .untrusted, .nameMismatch, .tls, .failed, .fatal: return false
        }
    }

    /// Whether the server may have received, and acted on, the request.
    var mayHaveArrived: Bool {
        switch kind {
        case .timedOut, .connectionLost: return true
        case .unreachable, .untrusted, .nameMismatch, .tls, .failed, .fatal: return false
        }
    }
}
