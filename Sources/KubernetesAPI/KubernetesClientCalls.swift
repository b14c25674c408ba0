import Foundation
import MrunSupport

/// The typed API calls. Every non-2xx answer throws a ``KubernetesError`` naming the request; a
/// request that got no answer throws a ``KubernetesClientError``.
extension KubernetesClient {
    /// Query options of a create.
    public struct CreateOptions: Sendable, Equatable {
        /// Validates and defaults without storing (`dryRun=All`): the answer has no resourceVersion.
        public var dryRun = false
        /// `Strict` refuses unknown fields with 400 instead of dropping them with a warning.
        public var fieldValidation: String?

        public init(dryRun: Bool = false, fieldValidation: String? = nil) {
            self.dryRun = dryRun
            self.fieldValidation = fieldValidation
        }

        var query: [(String, String)] {
            var query: [(String, String)] = []
            if dryRun { query.append(("dryRun", "All")) }
            if let fieldValidation { query.append(("fieldValidation", fieldValidation)) }
            return query
        }
    }

    /// `GET /version`: the cheapest authenticated round trip, for checking a context.
    public func version() async throws -> Kubernetes.VersionInfo {
        let request = APIRequest(path: "/version")
        return try decoded(
            Kubernetes.VersionInfo.self, from: try await exchange(request, retry: .idempotent), request: request)
    }

    /// Opens the connection to the server (the TCP connection, the TLS handshake, HTTP/2's
    /// preface) with a `GET /version` whose answer and errors are left out: a launch starts it
    /// while it plans, and its first requests find the connection ready. Nothing is done for
    /// credentials from an exec plugin, which the launch's own client would run again.
    public func warmUp() async {
        guard !connection.refreshesCredentials else { return }
        _ = try? await exchange(APIRequest(path: "/version"), retry: .never)
    }

    public func get<Object: KubernetesObject>(
        _ type: Object.Type, name: String, namespace: String? = nil
    ) async throws -> Object {
        let request = APIRequest(.init(.get, type, namespace: namespace, name: name), method: .GET)
        return try decoded(type, from: try await exchange(request, retry: .idempotent), request: request)
    }

    /// Creates `object` in `namespace` (ignored for cluster-scoped types). The object gets a fresh
    /// ``requestIDAnnotation`` unless it has one, so that a retry after a lost answer recognises it.
    public func create<Object: KubernetesObject>(
        _ object: Object, namespace: String? = nil, options createOptions: CreateOptions = CreateOptions()
    ) async throws -> Object {
        try await create(object, namespace: namespace, options: createOptions, answer: Object.self) { $0 }
    }

    /// Creates `object` as ``create(_:namespace:options:)`` does, and reads only the stored object's
    /// metadata (name, uid, resourceVersion) from the answer. A real server answers with the whole
    /// object and its managedFields, and decoding all of it is most of a create's work here: a
    /// sweep's hundreds of creates need no more than this.
    public func createReadingMetadata<Object: KubernetesObject>(
        _ object: Object, namespace: String? = nil, options createOptions: CreateOptions = CreateOptions()
    ) async throws -> Kubernetes.ObjectMeta {
        try await create(object, namespace: namespace, options: createOptions, answer: MetadataOnly.self) {
            MetadataOnly(metadata: $0.metadata)
        }.metadata
    }

    /// Creates an object given as its JSON document, sent as it is: a sweep's hundreds of Jobs go
    /// out without a conversion to typed objects and back. Its answer is only checked, not read:
    /// decoding even the metadata of a real server's answer (the whole object and its managedFields)
    /// was a tenth of a sweep's own work, and a sweep needs no more than that the Job exists.
    package func create<Object: KubernetesObject>(
        _ type: Object.Type, document: JSONValue, namespace: String? = nil,
        options createOptions: CreateOptions = CreateOptions()
    ) async throws {
        var document = document
        let markerPath: [JSONValue.Step] = [
            .field("metadata"), .field("annotations"), .field(Self.requestIDAnnotation),
        ]
        let marker = document[markerPath]?.string ?? UUID().uuidString.lowercased()
        document.update(markerPath[...]) { $0 = .string(marker) }
        let name = document[[.field("metadata"), .field("name")]]?.string
        let info = Kubernetes.RequestInfo(
            .create, Object.self, namespace: namespace,
            name: name ?? document[[.field("metadata"), .field("generateName")]]?.string)
        let request = APIRequest(info, method: .POST, query: createOptions.query, body: Data(document.jsonText.utf8))
        let retry: RetryPolicy = createOptions.dryRun ? .idempotent : name == nil ? .createGenerated : .createNamed
        let exchange = try await exchange(request, retry: retry)
        if exchange.status == 409, exchange.afterUncertainAttempt, let name {
            reportWarnings(exchange.headers)
            let existing = try? await get(Object.self, name: name, namespace: namespace)
            if let existing, existing.metadata.annotations?[Self.requestIDAnnotation] == marker { return }
        }
        try checked(exchange, request: request)
    }

    private struct MetadataOnly: Decodable {
        var metadata: Kubernetes.ObjectMeta
    }

    private func create<Object: KubernetesObject, Answer: Decodable>(
        _ object: Object, namespace: String?, options createOptions: CreateOptions, answer: Answer.Type,
        stored: (Object) -> Answer
    ) async throws -> Answer {
        var object = object
        let marker = object.metadata.annotations?[Self.requestIDAnnotation] ?? UUID().uuidString.lowercased()
        object.metadata.annotations = (object.metadata.annotations ?? [:]).merging([Self.requestIDAnnotation: marker]) {
            $1
        }
        let name = object.metadata.name
        let info = Kubernetes.RequestInfo(
            .create, Object.self, namespace: namespace, name: name ?? object.metadata.generateName)
        let request = APIRequest(info, method: .POST, query: createOptions.query, body: try Kubernetes.encode(object))
        // A dry run stores nothing, so repeating it is harmless.
        let retry: RetryPolicy = createOptions.dryRun ? .idempotent : name == nil ? .createGenerated : .createNamed
        let exchange = try await exchange(request, retry: retry)
        if exchange.status == 409, exchange.afterUncertainAttempt, let name {
            // An earlier attempt may have created it before its answer was lost.
            reportWarnings(exchange.headers)
            let existing = try? await get(Object.self, name: name, namespace: namespace)
            if let existing, existing.metadata.annotations?[Self.requestIDAnnotation] == marker {
                return stored(existing)
            }
        }
        return try decoded(Answer.self, from: exchange, request: request)
    }

    /// Replaces the stored object. With `metadata.resourceVersion` set, a concurrent change makes it
    /// fail with 409 Conflict; without, it overwrites unconditionally.
    public func replace<Object: KubernetesObject>(_ object: Object, namespace: String? = nil) async throws -> Object {
        guard let name = object.metadata.name else {
            throw KubernetesError(
                statusCode: 422,
                status: Kubernetes.Status(status: "Failure", message: "a replaced object needs metadata.name"),
                request: .init(.update, Object.self, namespace: namespace))
        }
        let info = Kubernetes.RequestInfo(.update, Object.self, namespace: namespace, name: name)
        let request = APIRequest(info, method: .PUT, body: try Kubernetes.encode(object))
        return try decoded(Object.self, from: try await exchange(request, retry: .idempotent), request: request)
    }

    /// Lists objects in `namespace`, or in all namespaces when it is nil.
    public func list<Object: KubernetesObject>(
        _ type: Object.Type, namespace: String?, labelSelector: Kubernetes.LabelSelector = []
    ) async throws -> Kubernetes.List<Object> {
        let info = Kubernetes.RequestInfo(.list, type, namespace: namespace)
        let query = labelSelector.isEmpty ? [] : [("labelSelector", labelSelector.description)]
        let request = APIRequest(info, method: .GET, query: query)
        return try decoded(
            Kubernetes.List<Object>.self, from: try await exchange(request, retry: .idempotent), request: request)
    }

    /// Deletes the object. Returns it while deletion is still in progress (finalizers, Foreground or
    /// Orphan propagation), nil once it is gone (the server answered with a Success Status).
    ///
    /// A retry after a lost answer that finds the object gone counts as success: the lost attempt
    /// deleted it.
    @discardableResult
    public func delete<Object: KubernetesObject>(
        _ type: Object.Type, name: String, namespace: String? = nil,
        propagationPolicy: Kubernetes.PropagationPolicy? = .background
    ) async throws -> Object? {
        let info = Kubernetes.RequestInfo(.delete, type, namespace: namespace, name: name)
        let options = Kubernetes.DeleteOptions(propagationPolicy: propagationPolicy)
        let body = propagationPolicy == nil ? nil : try Kubernetes.encode(options)
        let request = APIRequest(info, method: .DELETE, body: body)
        let exchange = try await exchange(request, retry: .idempotent)
        if exchange.status == 404, exchange.afterUncertainAttempt {
            reportWarnings(exchange.headers)
            return nil
        }
        if (200..<300).contains(exchange.status),
            let status = try? Kubernetes.decode(Kubernetes.Status.self, from: exchange.body), status.kind == "Status"
        {
            reportWarnings(exchange.headers)
            return nil
        }
        return try decoded(Object.self, from: exchange, request: request)
    }

    // MARK: - Named conveniences for the backend

    public func createJob(
        _ job: Kubernetes.Job, namespace: String, options: CreateOptions = CreateOptions()
    ) async throws -> Kubernetes.Job {
        try await create(job, namespace: namespace, options: options)
    }

    /// ``createJob(_:namespace:options:)`` reading only the created Job's metadata.
    public func createJobReadingMetadata(
        _ job: Kubernetes.Job, namespace: String, options: CreateOptions = CreateOptions()
    ) async throws -> Kubernetes.ObjectMeta {
        try await createReadingMetadata(job, namespace: namespace, options: options)
    }

    public func getJob(_ name: String, namespace: String) async throws -> Kubernetes.Job {
        try await get(Kubernetes.Job.self, name: name, namespace: namespace)
    }

    public func listJobs(
        namespace: String?, labelSelector: Kubernetes.LabelSelector = []
    ) async throws -> Kubernetes.List<Kubernetes.Job> {
        try await list(Kubernetes.Job.self, namespace: namespace, labelSelector: labelSelector)
    }

    /// Background by default: a batch/v1 Job deleted without a policy leaves its pods running.
    @discardableResult
    public func deleteJob(
        _ name: String, namespace: String, propagationPolicy: Kubernetes.PropagationPolicy? = .background
    ) async throws -> Kubernetes.Job? {
        try await delete(Kubernetes.Job.self, name: name, namespace: namespace, propagationPolicy: propagationPolicy)
    }

    /// A gang's headless Service; make it owned by the Job (``Kubernetes/OwnerReference/init(controller:)``)
    /// so that it goes with the Job.
    public func createService(
        _ service: Kubernetes.Service, namespace: String, options: CreateOptions = CreateOptions()
    ) async throws -> Kubernetes.Service {
        try await create(service, namespace: namespace, options: options)
    }

    public func getService(_ name: String, namespace: String) async throws -> Kubernetes.Service {
        try await get(Kubernetes.Service.self, name: name, namespace: namespace)
    }

    /// The server answers with the Service as it was deleted (its `deletionTimestamp` set); deleting
    /// its Job deletes it too.
    @discardableResult
    public func deleteService(_ name: String, namespace: String) async throws -> Kubernetes.Service? {
        try await delete(Kubernetes.Service.self, name: name, namespace: namespace)
    }

    public func listPods(
        namespace: String?, labelSelector: Kubernetes.LabelSelector = []
    ) async throws -> Kubernetes.List<Kubernetes.Pod> {
        try await list(Kubernetes.Pod.self, namespace: namespace, labelSelector: labelSelector)
    }
}
