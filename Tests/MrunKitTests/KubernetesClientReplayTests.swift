import FakeKubernetes
import Foundation
import Testing

@testable import MrunKit
@testable import KubernetesAPI
@testable import MrunBackends
@testable import MrunConfig
@testable import MrunHistory
@testable import MrunPlan
@testable import MrunSupport
@testable import MrunTemplates

/// Every recorded exchange, replayed by the fake server byte for byte, read back through the
/// client call that makes that request: successes decode to what the recorded body decodes to,
/// failures throw the recorded Status.
@Suite struct KubernetesClientReplayTests {
    @Test func clientReadsEveryRecordedResponse() async throws {
        let fixtures = try Fixtures.all()
        #expect(fixtures.count == Fixtures.count)
        try await withFakeKubernetes { server in
            server.replay(fixtures)
            let warnings = WarningLog()
            var options = KubernetesClient.Options.fast()
            options.warningHandler = { warnings.append($0) }
            let client = try server.client(options: options)
            var checked: [String] = []
            for fixture in fixtures {
                do {
                    try await replay(fixture, with: client)
                    checked.append(fixture.number)
                } catch {
                    Issue.record("\(fixture.name): \(error)")
                }
            }
            #expect(checked.count == Fixtures.count)
            #expect(warnings.all.count == 3, "two unknown fields (39) and the orphaning delete (68)")
            // Each exchange was asked for once: none was retried.
            #expect(server.requests.count == Fixtures.count)
        }
    }

    private func replay(_ fixture: Fixture, with client: KubernetesClient) async throws {
        let request = fixture.request
        if request.path == "/version" {
            #expect(try await client.version() == fixture.body(as: Kubernetes.VersionInfo.self))
            return
        }
        let info = try #require(fixture.requestInfo, "\(fixture.name)")
        let namespace = info.namespace
        let name = info.name ?? ""
        switch (info.resource, info.subresource, info.verb) {
        case ("pods", "log", _):
            try await expectLog(
                fixture,
                client.podLog(
                    name: name, namespace: namespace ?? "", container: request.query["container"],
                    follow: request.query["follow"] == "true", tailLines: request.query["tailLines"].flatMap(Int.init),
                    timestamps: request.query["timestamps"] == "true"))
        case (_, _, .watch):
            let selector = Self.selector(request.query["labelSelector"])
            let stream = client.watchJobs(
                namespace: namespace, labelSelector: selector, resourceVersion: request.query["resourceVersion"],
                timeoutSeconds: request.query["timeoutSeconds"].flatMap(Int.init))
            let (events, failure) = await collect(stream)
            let recorded = try (fixture.text ?? "").split(separator: "\n").map {
                try Kubernetes.decode(Kubernetes.WatchEvent<Kubernetes.Job>.self, from: Data($0.utf8))
            }
            if case .error(let status) = recorded.last {
                #expect((failure as? KubernetesError)?.status == status, "\(fixture.name)")
                #expect(events == Array(recorded.dropLast()), "\(fixture.name)")
            } else {
                #expect(failure == nil, "\(fixture.name)")
                #expect(events == recorded, "\(fixture.name)")
            }
        case ("namespaces", _, _):
            try await expect(fixture, as: Kubernetes.Namespace.self) {
                info.verb == .create
                    ? try await client.create(try fixture.requestBody(as: Kubernetes.Namespace.self))
                    : try await client.get(Kubernetes.Namespace.self, name: name)
            }
        case ("persistentvolumeclaims", _, _):
            try await expect(fixture, as: Kubernetes.PersistentVolumeClaim.self) {
                info.verb == .create
                    ? try await client.create(
                        try fixture.requestBody(as: Kubernetes.PersistentVolumeClaim.self), namespace: namespace)
                    : try await client.get(Kubernetes.PersistentVolumeClaim.self, name: name, namespace: namespace)
            }
        case ("secrets", _, let verb):
            try await expect(fixture, as: Kubernetes.Secret.self) {
                switch verb {
                case .create:
                    try await client.create(try fixture.requestBody(as: Kubernetes.Secret.self), namespace: namespace)
                case .update:
                    try await client.replace(try fixture.requestBody(as: Kubernetes.Secret.self), namespace: namespace)
                default: try await client.get(Kubernetes.Secret.self, name: name, namespace: namespace)
                }
            }
        case (let resource, _, .list):
            let selector = Self.selector(request.query["labelSelector"])
            if resource == "jobs" {
                try await expect(fixture, as: Kubernetes.List<Kubernetes.Job>.self) {
                    try await client.listJobs(namespace: namespace, labelSelector: selector)
                }
            } else {
                try await expect(fixture, as: Kubernetes.List<Kubernetes.Pod>.self) {
                    try await client.listPods(namespace: namespace, labelSelector: selector)
                }
            }
        case (let resource, _, .delete):
            let policy = try? Kubernetes.decode(Kubernetes.DeleteOptions.self, from: try request.body?.data() ?? Data())
            let isStatus =
                (try? fixture.body(as: Kubernetes.Status.self))?.kind == "Status" && fixture.response.status == 200
            if resource == "pods" {
                try await expect(fixture, as: Kubernetes.Pod.self) {
                    try await client.delete(
                        Kubernetes.Pod.self, name: name, namespace: namespace,
                        propagationPolicy: policy?.propagationPolicy) ?? Kubernetes.Pod(metadata: .init())
                }
            } else if isStatus {
                #expect(try await client.deleteJob(name, namespace: namespace ?? "") == nil, "\(fixture.name)")
            } else {
                try await expect(fixture, as: Kubernetes.Job.self) {
                    try await client.deleteJob(
                        name, namespace: namespace ?? "", propagationPolicy: policy?.propagationPolicy)
                        ?? Kubernetes.Job(metadata: .init())
                }
            }
        case ("jobs", _, .create):
            let options = KubernetesClient.CreateOptions(
                dryRun: request.query["dryRun"] == "All", fieldValidation: request.query["fieldValidation"])
            try await expect(fixture, as: Kubernetes.Job.self) {
                try await client.createJob(
                    try fixture.requestBody(as: Kubernetes.Job.self), namespace: namespace ?? "", options: options)
            }
        case ("jobs", _, .get):
            try await expect(fixture, as: Kubernetes.Job.self) {
                try await client.getJob(name, namespace: namespace ?? "")
            }
        case ("pods", _, .get):
            try await expect(fixture, as: Kubernetes.Pod.self) {
                try await client.get(Kubernetes.Pod.self, name: name, namespace: namespace)
            }
        default:
            Issue.record("\(fixture.name): no client call for \(request.method) \(request.path)")
        }
    }

    /// The recorded selector as sent, even the malformed one of fixture 28 (as a bare key).
    private static func selector(_ text: String?) -> Kubernetes.LabelSelector {
        guard let text else { return [] }
        return (try? Kubernetes.LabelSelector(parsing: text)) ?? [.exists(text)]
    }

    /// A 2xx decodes to the recorded body; any other status throws the recorded Status.
    private func expect<Value: Decodable & Equatable>(
        _ fixture: Fixture, as type: Value.Type, _ call: () async throws -> Value
    ) async throws {
        if (200..<300).contains(fixture.response.status) {
            #expect(try await call() == fixture.body(as: type), "\(fixture.name)")
            return
        }
        let error = await thrownError(KubernetesError.self) { _ = try await call() }
        #expect(error?.statusCode == fixture.response.status, "\(fixture.name)")
        #expect(error?.status == (try fixture.body(as: Kubernetes.Status.self)), "\(fixture.name)")
    }

    private func expectLog(_ fixture: Fixture, _ stream: AsyncThrowingStream<Data, any Error>) async throws {
        let (chunks, failure) = await collect(stream)
        switch fixture.response.status {
        case 200:
            #expect(failure == nil, "\(fixture.name)")
            #expect(String(decoding: chunks.reduce(Data(), +), as: UTF8.self) == fixture.text, "\(fixture.name)")
        case 204:
            #expect((failure as? KubernetesClientError)?.kind == .logNotAvailableYet, "\(fixture.name)")
        default:
            let error = failure as? KubernetesError
            #expect(error?.status == (try fixture.body(as: Kubernetes.Status.self)), "\(fixture.name)")
        }
    }
}

extension Fixture {
    func requestBody<Value: Decodable>(as type: Value.Type) throws -> Value {
        try Kubernetes.decode(type, from: try (request.body ?? .null).data())
    }
}
