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

/// The fake answers the recorded requests as the real kube-apiserver did: same statuses, same
/// Status objects, the same defaulted objects apart from uids, versions and times.
@Suite struct FakeKubernetesServerTests {
    /// Fixtures 02–22 in order, sent to a fake holding nothing, through the client.
    @Test func errorStatusesMatchTheRecordedOnes() async throws {
        try await withFakeKubernetes { server in
            let client = try server.client()
            var compared = 0
            for number in ["02", "03", "04", "05", "07", "09", "10", "11", "12", "17", "19", "20", "21", "22"] {
                let fixture = try Fixtures.named(number)
                let info = try #require(fixture.requestInfo)
                let call: () async throws -> Void = {
                    switch info.resource {
                    case "namespaces" where info.verb == .get:
                        _ = try await client.get(Kubernetes.Namespace.self, name: info.name ?? "")
                    case "namespaces":
                        _ = try await client.create(try fixture.requestBody(as: Kubernetes.Namespace.self))
                    case "persistentvolumeclaims":
                        _ = try await client.create(
                            try fixture.requestBody(as: Kubernetes.PersistentVolumeClaim.self),
                            namespace: info.namespace)
                    case "secrets":
                        _ = try await client.create(
                            try fixture.requestBody(as: Kubernetes.Secret.self), namespace: info.namespace)
                    default:
                        _ = try await client.createJob(
                            try fixture.requestBody(as: Kubernetes.Job.self), namespace: info.namespace ?? "")
                    }
                }
                if fixture.response.status < 300 {
                    try await call()
                    continue
                }
                let error = await thrownError(KubernetesError.self, call)
                #expect(error?.status == (try fixture.body(as: Kubernetes.Status.self)), "\(fixture.name)")
                compared += 1
            }
            #expect(compared == 10)
        }
    }

    @Test func createdObjectsCarryTheRecordedDefaults() async throws {
        try await withFakeKubernetes { server in
            let client = try server.client()
            for number in ["03", "07", "11", "17"] {
                let fixture = try Fixtures.named(number)
                let info = try #require(fixture.requestInfo)
                let made: JSONValue
                switch info.resource {
                case "namespaces":
                    made = try JSONValue(
                        encoding: try await client.create(try fixture.requestBody(as: Kubernetes.Namespace.self)))
                case "persistentvolumeclaims":
                    made = try JSONValue(
                        encoding: try await client.create(
                            try fixture.requestBody(as: Kubernetes.PersistentVolumeClaim.self),
                            namespace: info.namespace))
                case "secrets":
                    made = try JSONValue(
                        encoding: try await client.create(
                            try fixture.requestBody(as: Kubernetes.Secret.self), namespace: info.namespace))
                default:
                    made = try JSONValue(
                        encoding: try await client.createJob(
                            try fixture.requestBody(as: Kubernetes.Job.self), namespace: info.namespace ?? ""))
                }
                let recorded = try Self.withoutVolatileFields(fixture.response.body)
                let mine = try Self.withoutVolatileFields(made)
                #expect(mine.firstDeviation(from: recorded) == nil, "\(fixture.name)")
                #expect(recorded.firstDeviation(from: mine) == nil, "\(fixture.name): a recorded field the fake lacks")
            }
        }
    }

    @Test func resourceVersionsIncreaseAndListsCarryTheLatest() async throws {
        try await withFakeKubernetes { server in
            let namespace = try await server.makeNamespace()
            let client = try server.client()
            var versions: [Int] = []
            for index in 0..<3 {
                let job = try await client.createJob(Sample.job("exp-\(index)"), namespace: namespace)
                versions.append(Int(job.metadata.resourceVersion ?? "") ?? 0)
            }
            #expect(versions == versions.sorted() && Set(versions).count == 3)
            let list = try await client.listJobs(namespace: namespace)
            #expect(Int(list.metadata.resourceVersion ?? "") ?? 0 >= versions.last ?? .max)
        }
    }

    /// uid, resourceVersion, times, managedFields and the uid-derived labels differ per run, and
    /// mrun's request-id annotation is not in the recordings.
    static func withoutVolatileFields(_ value: JSONValue) throws -> JSONValue {
        var value = value
        for path in [
            "metadata.uid", "metadata.resourceVersion", "metadata.creationTimestamp", "metadata.managedFields",
            "metadata.annotations.mrun/request-id", "spec.selector.matchLabels.controller-uid",
            "spec.template.metadata.labels.controller-uid", "spec.template.metadata.creationTimestamp",
        ] {
            value = value.removing(path: path)
        }
        if case .object(var members) = value["metadata"], members["annotations"] == .object([:]) {
            members["annotations"] = nil
            if case .object(var all) = value {
                all["metadata"] = .object(members)
                value = .object(all)
            }
        }
        return value
    }
}
