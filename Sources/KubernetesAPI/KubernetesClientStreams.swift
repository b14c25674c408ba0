import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat
import MrunSupport

/// Pod logs and watches: answers that arrive over time and are handed on chunk by chunk.
extension KubernetesClient {
    /// The log of a pod's container as the kubelet writes it; with `follow`, until the container
    /// ends. Chunks are not aligned to lines.
    ///
    /// Before the pod is scheduled the stream fails with ``KubernetesClientError/Kind/logNotAvailableYet``,
    /// and while its container waits to start with a 400 ``KubernetesError``; both are worth a retry later.
    public func podLog(
        name: String, namespace: String, container: String? = nil, follow: Bool = false, tailLines: Int? = nil,
        timestamps: Bool = false
    ) -> AsyncThrowingStream<Data, any Error> {
        var query: [(String, String)] = []
        if let container { query.append(("container", container)) }
        if follow { query.append(("follow", "true")) }
        if let tailLines { query.append(("tailLines", String(tailLines))) }
        if timestamps { query.append(("timestamps", "true")) }
        let info = Kubernetes.RequestInfo(
            .get, Kubernetes.Pod.self, namespace: namespace, name: name, subresource: "log")
        var request = APIRequest(info, method: .GET, query: query)
        request.accept = "*/*"
        return stream(request) { response, continuation in
            for try await chunk in response.body {
                continuation.yield(Data(buffer: chunk))
            }
        }
    }

    /// Changes to objects of `type` after `resourceVersion` (from a list), or every object as ADDED
    /// first when it is nil. A resourceVersion the server no longer keeps fails the stream with a
    /// 410 ``KubernetesError`` (reason Expired): list again and watch from the list's version.
    /// `timeoutSeconds` asks the server to end the stream cleanly.
    public func watch<Object: KubernetesObject>(
        _ type: Object.Type, namespace: String?, labelSelector: Kubernetes.LabelSelector = [],
        resourceVersion: String? = nil, timeoutSeconds: Int? = nil
    ) -> AsyncThrowingStream<Kubernetes.WatchEvent<Object>, any Error> {
        var query: [(String, String)] = [("watch", "true")]
        if !labelSelector.isEmpty { query.append(("labelSelector", labelSelector.description)) }
        if let resourceVersion { query.append(("resourceVersion", resourceVersion)) }
        if let timeoutSeconds { query.append(("timeoutSeconds", String(timeoutSeconds))) }
        let info = Kubernetes.RequestInfo(.watch, type, namespace: namespace)
        let request = APIRequest(info, method: .GET, query: query)
        return stream(request) { response, continuation in
            var decoder = Kubernetes.WatchStreamDecoder<Object>()
            for try await chunk in response.body {
                for event in try decoder.decode(Data(buffer: chunk)) {
                    try deliver(event, to: continuation, request: request)
                }
            }
            for event in try decoder.finish() {
                try deliver(event, to: continuation, request: request)
            }
        }
    }

    public func watchJobs(
        namespace: String?, labelSelector: Kubernetes.LabelSelector = [], resourceVersion: String? = nil,
        timeoutSeconds: Int? = nil
    ) -> AsyncThrowingStream<Kubernetes.WatchEvent<Kubernetes.Job>, any Error> {
        watch(
            Kubernetes.Job.self, namespace: namespace, labelSelector: labelSelector, resourceVersion: resourceVersion,
            timeoutSeconds: timeoutSeconds)
    }

    private func deliver<Object>(
        _ event: Kubernetes.WatchEvent<Object>,
        to continuation: AsyncThrowingStream<Kubernetes.WatchEvent<Object>, any Error>.Continuation,
        request: APIRequest
    ) throws {
        // An ERROR event ends the watch; the server closes the stream after it anyway.
        if case .error(let status) = event { throw KubernetesError(status: status, request: request.info) }
        continuation.yield(event)
    }

    /// Opens `request` (retrying like any GET until its headers arrive), then lets `read` hand the
    /// body on. Ending the consumer's iteration cancels the request.
    private func stream<Element: Sendable>(
        _ request: APIRequest,
        read:
            @escaping @Sendable (HTTPClientResponse, AsyncThrowingStream<Element, any Error>.Continuation)
            async throws -> Void
    ) -> AsyncThrowingStream<Element, any Error> {
        AsyncThrowingStream { continuation in
            let task = Task {
                do {
                    let response = try await open(request)
                    try await read(response, continuation)
                    continuation.finish()
                } catch let error as KubernetesClientError {
                    continuation.finish(throwing: error)
                } catch let error as KubernetesError {
                    continuation.finish(throwing: error)
                } catch is CancellationError {
                    continuation.finish(throwing: CancellationError())
                } catch {
                    // Mid-stream the server or network went away; earlier chunks were delivered.
                    let failure = TransportFailure(error, timeout: options.requestTimeout)
                    continuation.finish(throwing: clientError(failure, request: request.info, attempts: 1))
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    private func open(_ request: APIRequest) async throws -> HTTPClientResponse {
        var refreshed = false
        var attempt = 0
        while true {
            attempt += 1
            let reply: Reply
            do {
                reply = try await openOnce(request)
            } catch let failure as TransportFailure {
                guard failure.isRetryable, attempt < options.maxAttempts else {
                    throw clientError(failure, request: request.info, attempts: attempt)
                }
                try await Task.sleep(for: retryDelay(attempt: attempt))
                continue
            }
            switch reply {
            case .streaming(let response):
                reportWarnings(response.headers)
                return response
            case .complete(let answer):
                let (status, headers, body) = (answer.status, answer.headers, answer.body)
                if status == 401, !refreshed, connection.refreshesCredentials {
                    refreshed = true
                    await connection.invalidateCredentials()
                    continue
                }
                if status >= 500 || status == 429, attempt < options.maxAttempts {
                    try await Task.sleep(for: retryDelay(attempt: attempt))
                    continue
                }
                reportWarnings(headers)
                if status == 204 {
                    throw KubernetesClientError(
                        .logNotAvailableYet, server: connection.server.absoluteString,
                        contextName: connection.contextName, request: request.info, detail: "204 No Content",
                        attempts: attempt)
                }
                throw apiError(status: status, body: body, request: request)
            }
        }
    }
}
