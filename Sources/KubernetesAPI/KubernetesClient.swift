import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import MrunSupport

/// Talks to one cluster's API server over the connection a kubeconfig context describes.
///
/// Idempotent requests (GET, PUT, DELETE) are retried with jittered backoff on 5xx/429 answers,
/// lost connections and timeouts. A create is retried only where that cannot duplicate the object:
/// it carries a ``requestIDAnnotation``, and a retry answered 409 AlreadyExists counts as success
/// only when the existing object bears the same one.
public struct KubernetesClient: Sendable {
    public struct Options: Sendable {
        /// For a whole answer; for a stream (logs, watch) until its headers arrive.
        public var requestTimeout: Duration = .seconds(30)
        /// Tries of one request, the first included.
        public var maxAttempts = 4
        /// The first retry waits up to this, each further one twice as long.
        public var initialBackoff: Duration = .milliseconds(200)
        public var maxBackoff: Duration = .seconds(5)
        public var userAgent = "mrun/\(MrunKitVersion.version)"
        /// Larger answers are refused rather than held in memory.
        public var maxResponseBytes = 64 << 20
        /// Receives each `Warning` header, e.g. a deprecation or a dropped unknown field.
        public var warningHandler: (@Sendable (String) -> Void)?

        public init() {}
    }

    /// Set on every object mrun creates, unique per create call, so a create retried after a lost
    /// answer can tell its own object from someone else's.
    public static let requestIDAnnotation = "mrun/request-id"

    public let connection: ClusterConnection
    public let options: Options
    let http: KubernetesHTTPClient
    let tls: KubernetesTLS

    public init(connection: ClusterConnection, http: KubernetesHTTPClient, options: Options = Options()) {
        self.connection = connection
        self.http = http
        self.options = options
        tls = KubernetesTLS(connection: connection, shared: http.tlsMaterials)
    }

    // MARK: - Requests

    struct APIRequest: Sendable {
        var info: Kubernetes.RequestInfo?
        var method: HTTPMethod
        var path: String
        var query: [(name: String, value: String)] = []
        var body: Data?
        var accept = "application/json"

        init(_ info: Kubernetes.RequestInfo, method: HTTPMethod, query: [(String, String)] = [], body: Data? = nil) {
            self.info = info
            self.method = method
            path = info.path
            self.query = query.map { (name: $0.0, value: $0.1) }
            self.body = body
        }

        init(path: String) {
            info = nil
            method = .GET
            self.path = path
        }
    }

    /// A complete answer, any status.
    struct Exchange: Sendable {
        var status: Int
        var headers: HTTPHeaders
        var body: Data
        /// An earlier attempt failed in a way that may have reached the server and taken effect.
        var afterUncertainAttempt: Bool
        var attempts: Int
    }

    enum RetryPolicy: Sendable {
        case never
        /// GET, PUT, DELETE: repeating changes nothing.
        case idempotent
        /// A POST whose name is fixed: a duplicate is impossible (409), so retry like idempotent.
        case createNamed
        /// A POST with generateName: retry only when the request surely did not arrive.
        case createGenerated
    }

    /// Sends `request` until it gets an answer worth returning, then returns it whatever its status.
    func exchange(_ request: APIRequest, retry: RetryPolicy) async throws -> Exchange {
        var uncertain = false
        var refreshed = false
        var attempt = 0
        while true {
            attempt += 1
            let outcome: Attempt
            do {
                outcome = .answer(try await sendOnce(request))
            } catch let failure as TransportFailure {
                outcome = .failed(failure)
            }
            switch outcome {
            case .answer(let answer):
                let status = answer.status
                let headers = answer.headers
                if status == 401, !refreshed, connection.refreshesCredentials {
                    // An exec plugin's token may have been revoked before its stated expiry.
                    refreshed = true
                    await connection.invalidateCredentials()
                    continue
                }
                let retryable = status >= 500 || status == 429
                if retryable, allowsRetry(retry, notApplied: status == 429), attempt < options.maxAttempts {
                    uncertain = uncertain || status != 429
                    try await backoff(attempt: attempt, retryAfter: headers.first(name: "Retry-After"))
                    continue
                }
                return Exchange(
                    status: status, headers: headers, body: answer.body, afterUncertainAttempt: uncertain,
                    attempts: attempt)
            case .failed(let failure):
                if failure.isRetryable, allowsRetry(retry, notApplied: !failure.mayHaveArrived),
                    attempt < options.maxAttempts
                {
                    uncertain = uncertain || failure.mayHaveArrived
                    try await backoff(attempt: attempt, retryAfter: nil)
                    continue
                }
                throw clientError(failure, request: request.info, attempts: attempt)
            }
        }
    }

    private enum Attempt {
        case answer(Complete)
        case failed(TransportFailure)
    }

    private func allowsRetry(_ policy: RetryPolicy, notApplied: Bool) -> Bool {
        switch policy {
        case .never: return false
        case .idempotent, .createNamed: return true
        case .createGenerated: return notApplied
        }
    }

    private func backoff(attempt: Int, retryAfter: String?) async throws {
        try await Task.sleep(for: retryDelay(attempt: attempt, retryAfter: retryAfter))
    }

    /// Exponential backoff with "equal jitter": half fixed, half random, so a fleet of clients
    /// that failed together does not retry together. A server's Retry-After wins, within the cap.
    func retryDelay(attempt: Int, retryAfter: String? = nil) -> Duration {
        let cap = options.maxBackoff.seconds
        let base = min(options.initialBackoff.seconds * pow(2, Double(attempt - 1)), cap)
        var delay = base / 2 + Double.random(in: 0...(base / 2))
        if let retryAfter, let seconds = Double(retryAfter.trimmingCharacters(in: .whitespaces)) {
            delay = min(max(delay, seconds), cap)
        }
        return .seconds(delay)
    }

    /// Decodes a 2xx answer, or throws the ``KubernetesError`` of any other.
    func decoded<Value: Decodable>(_ type: Value.Type, from exchange: Exchange, request: APIRequest) throws -> Value {
        try checked(exchange, request: request)
        do {
            return try Kubernetes.decode(type, from: exchange.body)
        } catch {
            // The decoding error names the failing field, never the body (which may hold secrets).
            throw KubernetesClientError(
                .invalidResponse, server: connection.server.absoluteString, contextName: connection.contextName,
                request: request.info, detail: "not a \(Value.self): \(error)", attempts: exchange.attempts)
        }
    }

    func checked(_ exchange: Exchange, request: APIRequest) throws {
        reportWarnings(exchange.headers)
        guard (200..<300).contains(exchange.status) else {
            throw apiError(status: exchange.status, body: exchange.body, request: request)
        }
    }

    func apiError(status: Int, body: Data, request: APIRequest) -> KubernetesError {
        var error = KubernetesError(statusCode: status, body: body, request: request.info)
        if status == 401 { error.note = credentialNote() }
        return error
    }

    func reportWarnings(_ headers: HTTPHeaders) {
        guard let handler = options.warningHandler else { return }
        for warning in headers["Warning"] { handler(warning) }
    }

    /// Which credential the server refused, since its 401 never says.
    private func credentialNote() -> String? {
        let material = tls.cachedMaterial
        if material?.clientCertificate != nil {
            if let expiry = material?.clientCertificateExpiry, expiry < Date() {
                return "the client certificate mrun sent expired on \(Self.timestamp(expiry)): renew it"
            }
            let until = material?.clientCertificateExpiry.map { ", valid until \(Self.timestamp($0))" } ?? ""
            return "mrun sent the client certificate of context '\(connection.contextName)'\(until); the cluster"
                + " does not accept it, maybe it is issued by another cluster's CA"
        }
        switch connection.credentials {
        case .exec(let plugin):
            return "mrun sent a token from exec plugin '\(plugin.command)', fetched anew after a first 401"
        case .staticToken, .tokenFile:
            return "mrun sent the bearer token of context '\(connection.contextName)'"
        case nil:
            return "mrun sent no credentials"
        }
    }

    static func timestamp(_ date: Date) -> String {
        date.formatted(.iso8601)
    }
}

extension ClusterConnection {
    /// Whether forgetting the credential and asking again may give a different one.
    var refreshesCredentials: Bool {
        if case .exec = credentials { return true }
        return false
    }
}
