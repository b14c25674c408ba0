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

@Suite struct KubernetesErrorTests {
    typealias K = Kubernetes

    /// The error mrun would raise for a fixture: the request as the client knows it (a create
    /// also knows the object's name) and the response as it arrived.
    func error(_ number: String) throws -> KubernetesError {
        let fixture = try Fixtures.named(number)
        var request = fixture.requestInfo
        if request?.name == nil, let name = fixture.request.body?["metadata"]?["name"]?.string { request?.name = name }
        return KubernetesError(
            statusCode: fixture.response.status, body: try fixture.response.body.data(), request: request)
    }

    @Test func unauthorizedSaysTheCredentialsWereRejected() throws {
        let error = try error("43")
        #expect(error.reason == .unauthorized)
        #expect(
            error.description
                == "the Kubernetes API server rejected the credentials (401 Unauthorized); check the user of the"
                + " kubeconfig context: its token may be expired or wrong, or its client certificate not trusted")
    }

    @Test func forbiddenNamesUserVerbResourceNamespaceAndTheRoleToGrant() throws {
        #expect(
            try error("41").description
                == #"user "mrun-nobody" may not list jobs in namespace "mrun-fixtures" (403 Forbidden); a cluster"#
                + #" admin must grant it, e.g. a Role in namespace "mrun-fixtures" with the rule {apiGroups:"#
                + #" ["batch"], resources: ["jobs"], verbs: ["list"]} and a RoleBinding of it to "mrun-nobody""#)
        #expect(
            try error("42").description
                == #"user "mrun-nobody" may not create jobs in namespace "mrun-fixtures" (403 Forbidden); a cluster"#
                + #" admin must grant it, e.g. a Role in namespace "mrun-fixtures" with the rule {apiGroups:"#
                + #" ["batch"], resources: ["jobs"], verbs: ["create"]} and a RoleBinding of it to "mrun-nobody""#)
        #expect(
            try error("44").description
                == #"the Kubernetes API server received no credentials, and "system:anonymous" may not list jobs"#
                + #" in namespace "mrun-fixtures" (403 Forbidden); give the kubeconfig context a user with a token"#
                + " or client certificate")
        #expect(try error("42").reason == .forbidden)
    }

    @Test func forbiddenAtClusterScopeSuggestsAClusterRole() {
        let message =
            #"namespaces is forbidden: User "system:serviceaccount:ci:mrun" cannot create resource "namespaces""#
            + #" in API group "" at the cluster scope"#
        let error = KubernetesError(
            statusCode: 403, status: K.Status(status: "Failure", message: message, reason: .forbidden, code: 403),
            request: K.RequestInfo(verb: .create, resource: "namespaces", namespace: "lr-sweep", name: "lr-sweep"))
        #expect(
            error.description
                == #"user "system:serviceaccount:ci:mrun" may not create namespaces (403 Forbidden); a cluster admin"#
                + #" must grant it, e.g. a ClusterRole with the rule {apiGroups: [""], resources: ["namespaces"],"#
                + #" verbs: ["create"]} and a ClusterRoleBinding of it to "system:serviceaccount:ci:mrun""#)
        let unexplained = KubernetesError(
            statusCode: 403, status: nil, request: K.RequestInfo(.get, K.Pod.self, namespace: "x", name: "p"))
        #expect(
            unexplained.description
                == #"not allowed to get pods in namespace "x" (403 Forbidden): the server gave no details;"#
                + " a cluster admin must grant it")
    }

    @Test func notFoundTellsAMissingNamespaceFromAMissingObject() throws {
        #expect(
            try error("10").description
                == #"namespace "no-such-ns" does not exist (404 NotFound); create it with 'kubectl create namespace"#
                + #" no-such-ns' or choose another with the context's 'namespace' key"#)
        #expect(try error("02").description == #"Namespace "mrun-fixtures" does not exist (404 NotFound)"#)
        #expect(
            try error("35").description
                == #"Pod "exp-lr-0-01-a1b2c-zzzzz" does not exist in namespace "mrun-fixtures" (404 NotFound)"#)
        #expect(
            try error("37").description
                == #"Job "exp-lr-0-06-dryrn" does not exist in namespace "mrun-fixtures" (404 NotFound)"#)
        #expect(
            try error("47").description
                == #"Job "exp-lr-0-01-a1b2c" does not exist in namespace "mrun-fixtures" (404 NotFound); it may"#
                + " have been deleted already")
        #expect(
            try error("48").description
                == #"Job "exp-lr-0-01-a1b2c" does not exist in namespace "mrun-fixtures" (404 NotFound)"#)
        #expect(try error("48").reason == .notFound)
    }

    @Test func conflictTellsAlreadyExistsFromAStaleResourceVersion() throws {
        #expect(
            try error("04").description
                == #"Namespace "mrun-fixtures" already exists (409 AlreadyExists); choose another name or delete"#
                + " it first")
        #expect(
            try error("09").description
                == #"PersistentVolumeClaim "mrun-storage" already exists in namespace "mrun-fixtures""#
                + " (409 AlreadyExists); choose another name or delete it first")
        #expect(
            try error("12").description
                == #"Secret "mrun-neptune" already exists in namespace "mrun-fixtures" (409 AlreadyExists);"#
                + " choose another name or delete it first")
        #expect(
            try error("19").description
                == #"Job "exp-lr-0-01-a1b2c" already exists in namespace "mrun-fixtures" (409 AlreadyExists);"#
                + " choose another name or delete it first")
        let stale = try error("15")
        #expect(stale.reason == .conflict)
        #expect(
            stale.description
                == #"Secret "mrun-neptune" in namespace "mrun-fixtures" was changed since it was read"#
                + " (409 Conflict: stale resourceVersion); read it again and retry the update")
    }

    @Test func invalidListsEveryCause() throws {
        #expect(
            try error("05").description
                == #"the Kubernetes API server refused Namespace "My_Project" as invalid (422 Invalid):"#
                + #" metadata.name: Invalid value: "My_Project": a lowercase RFC 1123 label must consist of lower"#
                + " case alphanumeric characters or '-', and must start and end with an alphanumeric character"
                + " (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?');"
                + " fix the template or context settings that produced it")
        #expect(
            try error("20").description
                == #"the Kubernetes API server refused Job "exp-lr-0-01-badbk" as invalid (422 Invalid):"#
                + " spec.backoffLimit: Invalid value: -1: must be greater than or equal to 0; fix the template or"
                + " context settings that produced it")
        #expect(
            try error("21").description
                == #"the Kubernetes API server refused Job "exp-lr-0-01-nocnt" as invalid (422 Invalid):"#
                + " spec.template.spec.containers: Required value; spec.template.spec.restartPolicy: Required"
                + #" value: valid values: "OnFailure", "Never"; fix the template or context settings that"#
                + " produced it")
        #expect(try error("21").reason == .invalid)
    }

    @Test func badRequestQuotesTheServer() throws {
        #expect(
            try error("22").description
                == #"bad request to create Job "exp-lr-0-01-wrgns" in namespace "mrun-fixtures" (400 BadRequest):"#
                + " the namespace of the provided object does not match the namespace sent on the request")
        #expect(
            try error("28").description
                == #"bad request to list jobs in namespace "mrun-fixtures" (400 BadRequest): unable to parse"#
                + " requirement: found '', expected: ',' or ')'")
        #expect(
            try error("34").description
                == #"bad request to get the log of Pod "exp-lr-0-01-a1b2c-lktgv" in namespace "mrun-fixtures""#
                + " (400 BadRequest): container nope is not valid for pod exp-lr-0-01-a1b2c-lktgv")
        #expect(
            try error("38").description
                == #"bad request to create Job "exp-lr-0-05-unkfd" in namespace "mrun-fixtures" (400 BadRequest):"#
                + #" Job in version "v1" cannot be handled as a Job: strict decoding error: unknown field"#
                + #" "spec.template.spec.containers[0].gpuCount", unknown field "spec.backoffLimitPerIndex""#)
        for number in ["74", "75"] {
            #expect(
                try error(number).description
                    == #"bad request to get the log of Pod "exp-lr-0-04-j7k8l-cb5dk" in namespace "mrun-fixtures""#
                    + #" (400 BadRequest): container "main" in pod "exp-lr-0-04-j7k8l-cb5dk" is waiting to start:"#
                    + " ContainerCreating")
        }
    }

    @Test func expiredWatchSaysToListAgain() throws {
        let fixture = try Fixtures.named("67")
        var decoder = K.WatchStreamDecoder<K.Job>()
        guard case .error(let status) = try decoder.decode(Data(try #require(fixture.text).utf8)).first else {
            Issue.record("67 holds no ERROR event")
            return
        }
        let error = KubernetesError(status: status, request: fixture.requestInfo)
        #expect(error.statusCode == 410)
        #expect(error.reason == .expired)
        #expect(!error.isRetryable)
        #expect(
            error.description
                == #"the watch of jobs in namespace "mrun-fixtures" started from a resourceVersion the server no"#
                + " longer keeps (410 Expired: too old resource version: 1 (317)); list again and watch from the"
                + " list's resourceVersion")
    }

    @Test func onlyServerErrorsAndThrottlingAreRetryable() throws {
        for fixture in try Fixtures.all() where fixture.response.status >= 400 {
            #expect(try !error(fixture.number).isRetryable, "\(fixture.name)")
        }
        let list = K.RequestInfo(.list, K.Job.self, namespace: "lr-sweep")
        for code in [500, 502, 503, 504, 429] {
            #expect(KubernetesError(statusCode: code, status: nil, request: list).isRetryable, "\(code)")
        }
        let unavailable = KubernetesError(statusCode: 503, body: Data("<html>\nBad gateway\n".utf8), request: list)
        #expect(unavailable.reason == .serviceUnavailable)
        #expect(
            unavailable.description
                == #"the Kubernetes API server failed to list jobs in namespace "lr-sweep" (503 ServiceUnavailable:"#
                + " <html>); such errors are retried, so the cluster's control plane is likely overloaded or down")
        let throttled = KubernetesError(statusCode: 429, body: Data(), request: list)
        #expect(throttled.reason == .tooManyRequests)
        #expect(
            throttled.description
                == #"the Kubernetes API server is throttling requests (429 TooManyRequests) to list jobs in"#
                + #" namespace "lr-sweep"; mrun retries these, so try again later if it persists"#)
    }

    @Test func reasonComesFromTheStatusElseFromTheHTTPStatus() throws {
        for fixture in try Fixtures.all() where fixture.response.status >= 400 {
            #expect(try error(fixture.number).reason.rawValue == fixture.response.body["reason"]?.string)
        }
        let expected: [Int: K.StatusReason] = [
            400: .badRequest, 401: .unauthorized, 403: .forbidden, 404: .notFound, 409: .conflict, 410: .gone,
            422: .invalid, 429: .tooManyRequests, 500: .internalError, 503: .serviceUnavailable, 504: .timeout,
            418: .unknown,
        ]
        for (code, reason) in expected {
            #expect(KubernetesError(statusCode: code, status: nil, request: nil).reason == reason)
        }
    }
}
