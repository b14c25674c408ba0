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

/// Retries on injected faults: only where repeating is safe, and never a duplicate Job.
@Suite struct KubernetesClientRetryTests {
    @Test func serverErrorsAreRetriedUntilSuccess() async throws {
        try await withFakeKubernetes { server in
            let namespace = try await server.makeNamespace()
            let client = try server.client()
            server.faults.inject(.status(500), count: 2, method: "GET")
            #expect(try await client.listJobs(namespace: namespace).items.isEmpty)
            #expect(server.requests.map(\.status) == [500, 500, 200])
        }
    }

    @Test func persistentServerErrorsFailAfterFourAttempts() async throws {
        try await withFakeKubernetes { server in
            let client = try server.client()
            server.faults.inject(.status(503), count: 10)
            let error = await thrownError(KubernetesError.self) {
                _ = try await client.getJob("exp-1", namespace: "default")
            }
            #expect(
                error?.description
                    == "the Kubernetes API server failed to get Job \"exp-1\" in namespace \"default\" (503"
                    + " ServiceUnavailable: injected fault); such errors are retried, so the cluster's control plane is"
                    + " likely overloaded or down")
            #expect(server.requests.count == 4)
        }
    }

    @Test func connectionResetIsRetriedForAGet() async throws {
        try await withFakeKubernetes { server in
            let namespace = try await server.makeNamespace()
            let client = try server.client()
            _ = try await client.createJob(Sample.job("exp-1"), namespace: namespace)
            server.faults.inject(.reset, count: 2, method: "GET")
            #expect(try await client.getJob("exp-1", namespace: namespace).metadata.name == "exp-1")
            #expect(server.requests.filter { $0.method == "GET" }.map(\.fault) == [.reset, .reset, nil])
        }
    }

    @Test func createRetriedAfterALostAnswerMakesExactlyOneJob() async throws {
        try await withFakeKubernetes { server in
            let namespace = try await server.makeNamespace()
            let client = try server.client()
            // The first POST creates the Job, then its answer is lost with the connection.
            server.faults.inject(.resetAfterHandling, method: "POST")
            let job = try await client.createJob(Sample.job("exp-1"), namespace: namespace)
            #expect(job.metadata.name == "exp-1")
            #expect(await server.controller.all(Kubernetes.Job.self).count == 1)
            let stored = try await client.getJob("exp-1", namespace: namespace)
            #expect(job.metadata.uid == stored.metadata.uid)
            #expect(server.requests.map(\.method) == ["POST", "POST", "GET", "GET"])
            #expect(server.requests.map(\.status) == [nil, 409, 200, 200])
        }
    }

    @Test func createRetriedAfterAResetBeforeItArrivedCreatesIt() async throws {
        try await withFakeKubernetes { server in
            let namespace = try await server.makeNamespace()
            let client = try server.client()
            server.faults.inject(.reset, method: "POST")
            _ = try await client.createJob(Sample.job("exp-1"), namespace: namespace)
            #expect(await server.controller.all(Kubernetes.Job.self).count == 1)
            #expect(server.requests.map(\.status) == [nil, 201])
        }
    }

    @Test func retriedCreateDoesNotClaimSomeoneElsesJob() async throws {
        try await withFakeKubernetes { server in
            let namespace = try await server.makeNamespace()
            let client = try server.client()
            _ = try await server.controller.create(Sample.job("exp-1"), namespace: namespace)
            server.faults.inject(.reset, method: "POST")
            let error = await thrownError(KubernetesError.self) {
                _ = try await client.createJob(Sample.job("exp-1"), namespace: namespace)
            }
            #expect(error?.reason == .alreadyExists)
            #expect(
                error?.description
                    == "Job \"exp-1\" already exists in namespace \"mrun-test\" (409 AlreadyExists); choose another"
                    + " name or delete it first")
        }
    }

    @Test func generatedNameCreateIsNotRetriedOnceItMayHaveArrived() async throws {
        try await withFakeKubernetes { server in
            let namespace = try await server.makeNamespace()
            let client = try server.client()
            var job = Sample.job("unused")
            job.metadata.name = nil
            job.metadata.generateName = "exp-"
            server.faults.inject(.resetAfterHandling, method: "POST")
            let error = await thrownError(KubernetesClientError.self) {
                _ = try await client.createJob(job, namespace: namespace)
            }
            // The reset, or on a loaded machine the client's request timeout before it: either way
            // the create may have arrived, and is not sent again.
            let mayHaveArrived: Bool
            switch error?.kind {
            case .connectionLost?, .timedOut?: mayHaveArrived = true
            default: mayHaveArrived = false
            }
            #expect(mayHaveArrived, "\(String(describing: error))")
            #expect(await server.controller.all(Kubernetes.Job.self).count == 1)
            #expect(server.requests.count == 1)
        }
    }

    @Test func deleteRetriedAfterALostAnswerFindsTheJobGone() async throws {
        try await withFakeKubernetes { server in
            let namespace = try await server.makeNamespace()
            let client = try server.client()
            _ = try await client.createJob(Sample.job("exp-1"), namespace: namespace)
            server.faults.inject(.resetAfterHandling, method: "DELETE")
            #expect(try await client.deleteJob("exp-1", namespace: namespace) == nil)
            #expect(await server.controller.all(Kubernetes.Job.self).isEmpty)
        }
    }

    @Test func stalledRequestTimesOutAndIsRetried() async throws {
        try await withFakeKubernetes { server in
            // Long enough for a new connection's handshake on a loaded 2-core machine.
            let client = try server.client(options: .fast(timeout: .seconds(1)))
            server.faults.inject(.stall(.seconds(10)), count: 1)
            #expect(try await client.version().major == "1")
            server.faults.inject(.stall(.seconds(10)), count: 4)
            let started = ContinuousClock.now
            let error = await thrownError(KubernetesClientError.self) { _ = try await client.version() }
            // Four stalls of 10 s each: well under 40 s proves each try gave up after its timeout
            // (the margin is for a loaded machine).
            #expect(ContinuousClock.now - started < .seconds(30))
            #expect(error?.kind == .timedOut(seconds: 1))
            #expect(
                error?.description
                    == "the Kubernetes API server https://127.0.0.1:\(server.port) did not answer within 1 s to"
                    + " reach the Kubernetes API server (context 'fake', 4 attempts); check the network path to the"
                    + " cluster (VPN, proxy, firewall) and whether its control plane is overloaded")
        }
    }

    @Test func nothingListeningIsUnreachable() async throws {
        let (connection, port) = try await withFakeKubernetes { server in
            (try server.connection(for: .token("admin-token")), server.port)
        }
        let client = KubernetesClient(connection: connection, http: TestEnvironment.http, options: .fast(attempts: 2))
        let error = await thrownError(KubernetesClientError.self) { _ = try await client.listJobs(namespace: "x") }
        #expect(error?.kind == .unreachable)
        #expect(
            error?.description.hasPrefix(
                "cannot connect to the Kubernetes API server https://127.0.0.1:\(port) of context 'fake' to list jobs in"
                    + " namespace \"x\"") == true)
    }

    @Test func execPluginTokenIsFetchedAnewAfterA401() async throws {
        try await withFakeKubernetes { server in
            // The plugin hands out a revoked token first, the admin token on every later run.
            let script = server.workDirectory.appendingPathComponent("token-plugin.sh")
            try Data(
                """
                #!/bin/sh
                here=$(dirname "$0")
                echo run >> "$here/runs"
                if [ "$(wc -l < "$here/runs")" -eq 1 ]; then token=revoked-token; else token=admin-token; fi
                printf '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"%s","expirationTimestamp":"2099-01-01T00:00:00Z"}}' "$token"
                """.utf8
            ).write(to: script)
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: script.path)
            let client = try server.client(.exec(command: script.path, arguments: []))
            #expect(try await client.version().major == "1")
            let runs = try String(contentsOf: server.workDirectory.appendingPathComponent("runs"), encoding: .utf8)
            #expect(runs.split(separator: "\n").count == 2)
            #expect(server.requests.map(\.status) == [401, 200])
            #expect(server.requests.last?.user == "admin")
        }
    }

    @Test func failingExecPluginIsReportedAsItselfAndNotRetried() async throws {
        try await withFakeKubernetes { server in
            let script = server.workDirectory.appendingPathComponent("broken-plugin.sh")
            try Data("#!/bin/sh\necho 'ERROR: not logged in' >&2\nexit 2\n".utf8).write(to: script)
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: script.path)
            let client = try server.client(.exec(command: script.path, arguments: []))
            let error = await thrownError(KubeconfigError.self) { _ = try await client.version() }
            #expect(error?.description.contains("failed with exit status 2: ERROR: not logged in") == true)
            #expect(server.requests.isEmpty)
        }
    }
}
