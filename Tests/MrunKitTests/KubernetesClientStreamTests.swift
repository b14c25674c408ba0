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

/// Pod logs and Job watches through the client, with the fake's controller driving the pods.
@Suite struct KubernetesClientStreamTests {
    @Test func logIsUnavailableThenWaitingThenFollowedChunkByChunkUntilTheContainerEnds() async throws {
        try await withFakeKubernetes { server in
            let namespace = try await server.makeNamespace()
            let client = try server.client()
            _ = try await client.createJob(Sample.job("exp-1"), namespace: namespace)
            let pod = try await server.controller.createPod(forJob: "exp-1", namespace: namespace)
            let name = try #require(pod.metadata.name)

            let (_, unscheduled) = await collect(client.podLog(name: name, namespace: namespace, follow: true))
            let notYet = try #require(unscheduled as? KubernetesClientError)
            #expect(notYet.kind == .logNotAvailableYet)
            #expect(
                notYet.description
                    == "there is no log to get the log of Pod \"\(name)\" in namespace \"mrun-test\" yet (204 No"
                    + " Content): the pod is not scheduled on a node; try again once it runs")

            try await server.controller.schedule(pod: name, namespace: namespace)
            let (_, waiting) = await collect(client.podLog(name: name, namespace: namespace, container: "main"))
            #expect(
                (waiting as? KubernetesError)?.description
                    == "bad request to get the log of Pod \"\(name)\" in namespace \"mrun-test\" (400 BadRequest):"
                    + " container \"main\" in pod \"\(name)\" is waiting to start: ContainerCreating")

            try await server.controller.start(pod: name, namespace: namespace)
            try await server.controller.log(pod: name, namespace: namespace, "line 1/3\n")
            var chunks: [String] = []
            for try await chunk in client.podLog(name: name, namespace: namespace, follow: true) {
                chunks.append(String(decoding: chunk, as: UTF8.self))
                // Each line is written only after the previous one arrived: proof of streaming.
                switch chunks.count {
                case 1: try await server.controller.log(pod: name, namespace: namespace, "line 2/3\n")
                case 2: try await server.controller.log(pod: name, namespace: namespace, "line 3/3\npartial")
                default: try await server.controller.finish(pod: name, namespace: namespace)
                }
            }
            #expect(chunks == ["line 1/3\n", "line 2/3\n", "line 3/3\npartial"])
        }
    }

    @Test func finishedLogHasTailLinesTimestampsAndChecksTheContainer() async throws {
        try await withFakeKubernetes { server in
            let namespace = try await server.makeNamespace()
            let client = try server.client()
            _ = try await client.createJob(Sample.job("exp-1"), namespace: namespace)
            let pod = try await server.controller.run(
                job: "exp-1", namespace: namespace, lines: ["one", "two", "three"], exitCode: 1)
            let name = try #require(pod.metadata.name)
            #expect(pod.status?.phase == .failed)

            let (whole, _) = await collect(client.podLog(name: name, namespace: namespace, follow: true))
            #expect(String(decoding: whole.reduce(Data(), +), as: UTF8.self) == "one\ntwo\nthree\n")
            let (tail, _) = await collect(
                client.podLog(name: name, namespace: namespace, tailLines: 2, timestamps: true))
            let lines = String(decoding: tail.reduce(Data(), +), as: UTF8.self).split(separator: "\n")
            #expect(lines.count == 2)
            #expect(lines.last?.hasSuffix(" three") == true)
            let stamp = try #require(lines.first?.split(separator: " ").first)
            #expect(stamp.wholeMatch(of: /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z/) != nil)
            #expect(Kubernetes.date(from: String(stamp)) != nil)

            let (_, wrong) = await collect(client.podLog(name: name, namespace: namespace, container: "nope"))
            #expect((wrong as? KubernetesError)?.status?.message == "container nope is not valid for pod \(name)")
            let (_, missing) = await collect(client.podLog(name: "exp-1-zzzzz", namespace: namespace))
            #expect(
                (missing as? KubernetesError)?.description
                    == "Pod \"exp-1-zzzzz\" does not exist in namespace \"mrun-test\" (404 NotFound)")
        }
    }

    @Test func watchFromAListSeesTheJobRunToCompletion() async throws {
        try await withFakeKubernetes { server in
            let namespace = try await server.makeNamespace()
            let client = try server.client()
            let selector: Kubernetes.LabelSelector = [.equals("mrun/experiment", "exp-1")]
            let listed = try await client.listJobs(namespace: namespace, labelSelector: selector)
            let from = try #require(listed.metadata.resourceVersion)
            _ = try await client.createJob(Sample.job("exp-2"), namespace: namespace)
            let events = client.watchJobs(
                namespace: namespace, labelSelector: selector, resourceVersion: from, timeoutSeconds: 10)
            _ = try await client.createJob(Sample.job("exp-1"), namespace: namespace)
            try await server.controller.run(job: "exp-1", namespace: namespace, lines: ["hello"])
            var seen: [(Kubernetes.WatchEventType, Kubernetes.JobPhase)] = []
            for try await event in events {
                let job = try #require(event.object)
                #expect(job.metadata.name == "exp-1")
                seen.append((event.type, job.phase))
                if job.phase == .succeeded { break }
            }
            #expect(seen.map(\.0) == [.added, .modified, .modified, .modified, .modified])
            #expect(seen.map(\.1) == [.pending, .active, .active, .active, .succeeded])
        }
    }

    @Test func watchWithoutResourceVersionStartsWithTheCurrentJobs() async throws {
        try await withFakeKubernetes { server in
            let namespace = try await server.makeNamespace()
            let client = try server.client()
            _ = try await client.createJob(Sample.job("exp-1"), namespace: namespace)
            _ = try await client.createJob(Sample.job("exp-2"), namespace: namespace)
            var names: [String] = []
            for try await event in client.watchJobs(namespace: namespace, timeoutSeconds: 5) {
                #expect(event.type == .added)
                names.append(event.object?.metadata.name ?? "")
                if names.count == 2 { break }
            }
            #expect(names == ["exp-1", "exp-2"])
        }
    }

    @Test func watchFromACompactedResourceVersionFailsWithExpired() async throws {
        try await withFakeKubernetes { server in
            let namespace = try await server.makeNamespace()
            let client = try server.client()
            _ = try await client.createJob(Sample.job("exp-1"), namespace: namespace)
            await server.controller.compact()
            let (events, failure) = await collect(client.watchJobs(namespace: namespace, resourceVersion: "1"))
            #expect(events.isEmpty)
            let expired = try #require(failure as? KubernetesError)
            #expect(expired.statusCode == 410)
            #expect(expired.reason == .expired)
            #expect(
                expired.description
                    == "the watch of jobs in namespace \"mrun-test\" started from a resourceVersion the server no"
                    + " longer keeps (410 Expired: too old resource version: 1 (\(await server.controller.oldestWatchable)));"
                    + " list again and watch from the list's resourceVersion")
        }
    }

    @Test func stoppingToReadAFollowedLogClosesTheRequest() async throws {
        try await withFakeKubernetes { server in
            let namespace = try await server.makeNamespace()
            let client = try server.client()
            _ = try await client.createJob(Sample.job("exp-1"), namespace: namespace)
            let pod = try await server.controller.createPod(forJob: "exp-1", namespace: namespace)
            let name = try #require(pod.metadata.name)
            try await server.controller.start(pod: name, namespace: namespace)
            try await server.controller.log(pod: name, namespace: namespace, "first\n")
            for try await chunk in client.podLog(name: name, namespace: namespace, follow: true) {
                #expect(String(decoding: chunk, as: UTF8.self) == "first\n")
                break
            }
            // The server notices the closed request and drops its follower.
            var followers = 1
            for _ in 0..<100 where followers > 0 {
                try await Task.sleep(for: .milliseconds(20))
                followers = await server.controller.followers.count
            }
            #expect(followers == 0)
        }
    }

    @Test func jobCreatedHookRunsEveryJobAndTheWatchSeesItDeleted() async throws {
        try await withFakeKubernetes { server in
            let namespace = try await server.makeNamespace()
            let client = try server.client()
            let controller = server.controller
            await controller.onJobCreated { job in
                _ = try? await controller.run(
                    job: job.metadata.name ?? "", namespace: job.metadata.namespace ?? "", lines: ["done"], exitCode: 3)
            }
            let from = try #require(try await client.listJobs(namespace: namespace).metadata.resourceVersion)
            let events = client.watchJobs(namespace: namespace, resourceVersion: from, timeoutSeconds: 10)
            _ = try await client.createJob(Sample.job("exp-1"), namespace: namespace)
            var types: [Kubernetes.WatchEventType] = []
            for try await event in events {
                types.append(event.type)
                if event.type == .deleted { break }
                if event.object?.phase == .failed {
                    let failed = try #require(event.object?.status?.condition("Failed"))
                    #expect(failed.reason == "BackoffLimitExceeded")
                    try await client.deleteJob("exp-1", namespace: namespace)
                }
            }
            #expect(types.first == .added)
            #expect(types.last == .deleted)
            #expect(types.filter { $0 == .modified }.count == 4)
            let pods = await controller.pods(ofJob: "exp-1", namespace: namespace)
            #expect(pods.isEmpty, "Background deletion removed the pod")
        }
    }
}
