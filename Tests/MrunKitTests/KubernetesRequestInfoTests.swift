import Testing

@testable import MrunKit
@testable import KubernetesAPI
@testable import MrunBackends
@testable import MrunConfig
@testable import MrunHistory
@testable import MrunPlan
@testable import MrunSupport
@testable import MrunTemplates

@Suite struct KubernetesRequestInfoTests {
    typealias K = Kubernetes

    /// Every recorded resource request reads back into the same path, so the client's paths are
    /// the ones the real server answered.
    @Test func everyRecordedPathParsesAndRebuilds() throws {
        var parsed = 0
        for fixture in try Fixtures.all() {
            guard let info = fixture.requestInfo else {
                #expect(fixture.request.path == "/version", "\(fixture.name): not read as a resource request")
                continue
            }
            #expect(info.path == fixture.request.path, "\(fixture.name)")
            parsed += 1
        }
        #expect(parsed == Fixtures.count - 1)
    }

    @Test func verbsFollowMethodPathAndWatch() throws {
        let expected: [String: K.RequestInfo] = [
            "02": .init(verb: .get, resource: "namespaces", name: "mrun-fixtures"),
            "03": .init(verb: .create, resource: "namespaces"),
            "14": .init(verb: .update, resource: "secrets", namespace: "mrun-fixtures", name: "mrun-neptune"),
            "17": .init(verb: .create, group: "batch", resource: "jobs", namespace: "mrun-fixtures"),
            "29": .init(verb: .list, group: "batch", resource: "jobs"),
            "35": .init(
                verb: .get, resource: "pods", subresource: "log", namespace: "mrun-fixtures",
                name: "exp-lr-0-01-a1b2c-zzzzz"),
            "46": .init(
                verb: .delete, group: "batch", resource: "jobs", namespace: "mrun-fixtures", name: "exp-lr-0-01-a1b2c"),
            "61": .init(verb: .watch, group: "batch", resource: "jobs", namespace: "mrun-fixtures"),
        ]
        for (number, info) in expected {
            #expect(try Fixtures.named(number).requestInfo == info, "\(number)")
        }
        #expect(K.RequestInfo(method: "DELETE", path: "/api/v1/namespaces/x/pods")?.verb == .deletecollection)
        #expect(K.RequestInfo(method: "PATCH", path: "/api/v1/namespaces/x/pods/p")?.verb == .patch)
        #expect(K.RequestInfo(method: "GET", path: "/api/v1/namespaces/x/status")?.subresource == "status")
        #expect(K.RequestInfo(method: "GET", path: "/api/v1/namespaces/x/status")?.namespace == nil)
        #expect(K.RequestInfo(method: "OPTIONS", path: "/api/v1/pods") == nil)
        #expect(K.RequestInfo(method: "GET", path: "/apis/batch/v1") == nil)
        #expect(K.RequestInfo(method: "GET", path: "/healthz") == nil)
        #expect(K.RequestInfo(method: "GET", path: "/api/v1/namespaces/x/pods/p/log/extra") == nil)
    }

    @Test func typedRequestsBuildTheirPaths() {
        #expect(
            K.RequestInfo(.create, K.Job.self, namespace: "ns", name: "j").path == "/apis/batch/v1/namespaces/ns/jobs")
        #expect(
            K.RequestInfo(.get, K.Job.self, namespace: "ns", name: "j").path == "/apis/batch/v1/namespaces/ns/jobs/j")
        #expect(K.RequestInfo(.list, K.Job.self).path == "/apis/batch/v1/jobs")
        #expect(
            K.RequestInfo(.get, K.Pod.self, namespace: "ns", name: "p", subresource: "log").path
                == "/api/v1/namespaces/ns/pods/p/log")
        #expect(
            K.RequestInfo(.delete, K.Namespace.self, namespace: "ignored", name: "ns").path == "/api/v1/namespaces/ns")
        #expect(
            K.RequestInfo(.update, K.PersistentVolumeClaim.self, namespace: "ns", name: "c").path
                == "/api/v1/namespaces/ns/persistentvolumeclaims/c")
        #expect(K.Job.group == "batch" && K.Secret.group == "")
    }
}
