import Foundation

import KubernetesAPI
import MrunSupport

package struct FakeHTTPRequest: Sendable {
    package var method: String
    package var path: String
    /// Decoded values.
    package var query: [String: String]
    package var headers: [String: String]
    package var body: Data
    package var certificate: FakeCertificateIdentity

    package func header(_ name: String) -> String? {
        headers.first { $0.key.lowercased() == name.lowercased() }?.value
    }
}

package struct FakeHTTPResponse: Sendable {
    package enum Body: Sendable {
        case data(Data)
        case stream(AsyncStream<Data>)
    }

    package var status: Int
    package var headers: [(String, String)] = []
    package var body: Body = .data(Data())

    package static func json(_ status: Int, _ value: some Encodable, warnings: [String] = []) -> FakeHTTPResponse {
        let data = (try? Kubernetes.encode(value)) ?? Data("{}".utf8)
        return FakeHTTPResponse(
            status: status, headers: [("Content-Type", "application/json")] + warnings.map { ("Warning", $0) },
            body: .data(data))
    }

    package static func error(_ error: FakeAPIError) -> FakeHTTPResponse {
        json(error.code, error.status)
    }

    /// The answer to a write with the managedFields a real server adds (``FakeManagedFields``).
    func managed(by request: FakeHTTPRequest, apiVersion: String) -> FakeHTTPResponse {
        guard case .data(let data) = body else { return self }
        var managed = self
        managed.body = .data(
            FakeManagedFields.adding(
                to: data, manager: FakeManagedFields.manager(userAgent: request.header("User-Agent")),
                apiVersion: apiVersion, time: FakeKubernetesCluster.timestamp()))
        return managed
    }
}

/// Authentication, RBAC, and the resource endpoints of kube-apiserver that mrun uses.
package struct FakeKubernetesRouter: Sendable {
    package let cluster: FakeKubernetesCluster
    package let authorizer: FakeAuthorizer

    package static let version = Kubernetes.VersionInfo(
        major: "1", minor: "25", gitVersion: "v1.25.0-fake", gitCommit: "0000000", gitTreeState: "clean",
        buildDate: "2026-11-21T00:00:00Z", goVersion: "go1.19", compiler: "gc", platform: "linux/amd64")

    /// The answer and the user it was given to (nil when authentication failed).
    package func handle(_ request: FakeHTTPRequest) async -> (FakeHTTPResponse, String?) {
        let identity: FakeIdentity
        do {
            identity = try authorizer.authenticate(
                certificate: request.certificate, authorization: request.header("Authorization"))
        } catch {
            return (.error(error), nil)
        }
        if request.path == "/version" { return (.json(200, Self.version), identity.user) }
        if request.method == "GET",
            let document = FakeKubernetesDiscovery.document(
                path: request.path, host: request.header("Host") ?? "127.0.0.1:443")
        {
            return (
                FakeHTTPResponse(
                    status: 200, headers: [("Content-Type", "application/json")], body: .data(Data(document.utf8))),
                identity.user
            )
        }
        guard let info = Kubernetes.RequestInfo(method: request.method, path: request.path, query: request.query) else {
            return (.error(.notFound(resource: "", group: "", name: request.path)), identity.user)
        }
        do {
            try authorizer.authorize(identity, info)
            return (try await route(info, request), identity.user)
        } catch let error as FakeAPIError {
            return (.error(error), identity.user)
        } catch {
            return (.error(.internalError("\(error)")), identity.user)
        }
    }

    private func route(_ info: Kubernetes.RequestInfo, _ request: FakeHTTPRequest) async throws -> FakeHTTPResponse {
        switch (info.resource, info.subresource) {
        case ("namespaces", nil): return try await serve(Kubernetes.Namespace.self, info, request)
        case ("persistentvolumeclaims", nil):
            return try await serve(Kubernetes.PersistentVolumeClaim.self, info, request)
        case ("secrets", nil): return try await serve(Kubernetes.Secret.self, info, request)
        case ("services", nil): return try await serve(Kubernetes.Service.self, info, request)
        case ("jobs", nil): return try await serve(Kubernetes.Job.self, info, request)
        case ("pods", nil): return try await serve(Kubernetes.Pod.self, info, request)
        case ("pods", "log") where info.verb == .get: return try await log(info, request)
        default:
            throw FakeAPIError(
                code: 404, reason: .notFound, message: "the server could not find the requested resource")
        }
    }

    private func serve<Object: FakeStorable>(
        _ type: Object.Type, _ info: Kubernetes.RequestInfo, _ request: FakeHTTPRequest
    ) async throws -> FakeHTTPResponse {
        let name = info.name ?? ""
        switch info.verb {
        case .get:
            return .json(200, try await cluster.get(type, namespace: info.namespace, name: name))
        case .list:
            let selector = try Self.selector(request)
            return .json(200, await cluster.list(type, namespace: info.namespace, selector: selector))
        case .watch:
            let selector = try Self.selector(request)
            let timeout = request.query["timeoutSeconds"].flatMap(Int.init).map { Duration.seconds($0) }
            let stream = await cluster.watch(
                resource: Object.resource, namespace: info.namespace, selector: selector,
                from: request.query["resourceVersion"], timeout: timeout)
            return FakeHTTPResponse(status: 200, headers: [("Content-Type", "application/json")], body: .stream(stream))
        case .create:
            let object = try Self.decode(type, request.body)
            let dryRun = request.query["dryRun"] == "All"
            let created = try await cluster.create(object, namespace: info.namespace, dryRun: dryRun)
            return .json(201, created).managed(by: request, apiVersion: Object.apiVersion)
        case .update:
            let object = try Self.decode(type, request.body)
            let replaced = try await cluster.replace(object, namespace: info.namespace, name: name)
            return .json(200, replaced).managed(by: request, apiVersion: Object.apiVersion)
        case .delete:
            let options =
                request.body.isEmpty ? nil : try? Kubernetes.decode(Kubernetes.DeleteOptions.self, from: request.body)
            return try await cluster.delete(
                type, namespace: info.namespace, name: name, policy: options?.propagationPolicy)
        case .patch, .deletecollection:
            throw FakeAPIError(code: 405, reason: .methodNotAllowed, message: "the fake does not support this verb")
        }
    }

    private func log(_ info: Kubernetes.RequestInfo, _ request: FakeHTTPRequest) async throws -> FakeHTTPResponse {
        let answer = try await cluster.podLog(
            name: info.name ?? "", namespace: info.namespace ?? "", container: request.query["container"],
            follow: request.query["follow"] == "true", tailLines: request.query["tailLines"].flatMap(Int.init),
            timestamps: request.query["timestamps"] == "true")
        switch answer {
        case .noContent:
            return FakeHTTPResponse(status: 204)
        case .text(let text):
            return FakeHTTPResponse(status: 200, headers: [("Content-Type", "text/plain")], body: .data(text))
        case .stream(let stream):
            return FakeHTTPResponse(status: 200, headers: [("Content-Type", "text/plain")], body: .stream(stream))
        }
    }

    private static func selector(_ request: FakeHTTPRequest) throws(FakeAPIError) -> Kubernetes.LabelSelector {
        guard let text = request.query["labelSelector"] else { return [] }
        do {
            return try Kubernetes.LabelSelector(parsing: text)
        } catch {
            throw .badRequest(error.message)
        }
    }

    private static func decode<Object: FakeStorable>(_ type: Object.Type, _ body: Data) throws(FakeAPIError) -> Object {
        do {
            return try Kubernetes.decode(type, from: body)
        } catch {
            throw .badRequest("\(Object.kind) in version \"v1\" cannot be handled as a \(Object.kind): \(error)")
        }
    }
}
