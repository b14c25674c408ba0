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

/// `status`, `logs`, `cancel`, `list` on Kubernetes, against the fake API server whose controller
/// moves the launched Jobs' pods Pending → Running (with log lines) → Succeeded / Failed.
@Suite struct KubernetesJobsTests {
    /// Launches an experiment named `name` through the backend; returns its Job name.
    func launch(_ project: KubernetesProject, name: String) async throws -> String {
        let plan = try project.plan(name: name)
        let outcome = await project.run(plan)
        #expect(outcome.status == 0, "\(outcome.message)")
        return plan.experiment.name
    }

    @Test func statusFollowsThePodFromPendingToCompleted() async throws {
        try await withFakeKubernetes { server in
            let project = try KubernetesProject(server: server)
            let name = try await launch(project, name: "train")
            let jobs = try project.jobs()
            let cluster = server.controller
            #expect(try await jobs.status(name).stateDescription == "PENDING")

            let pod = try await cluster.createPod(forJob: name, namespace: "proj").metadata.name ?? ""
            #expect(try await jobs.status(name).stateDescription == "PENDING (not scheduled yet)")
            try await cluster.schedule(pod: pod, namespace: "proj")
            #expect(try await jobs.status(name).stateDescription == "PENDING (ContainerCreating)")
            try await cluster.start(pod: pod, namespace: "proj")
            let running = try await jobs.status(name)
            #expect(running.stateDescription == "RUNNING")
            #expect(running.pod == pod)
            try await cluster.finish(pod: pod, namespace: "proj", exitCode: 0)
            let done = try await jobs.status(name)
            #expect(done.stateDescription == "COMPLETED, exit code 0")
            let text = done.statusText()
            #expect(
                text.hasPrefix(
                    "Job        \(name) (namespace proj)\nState      COMPLETED, exit code 0\nPod        \(pod)\n"))
            #expect(text.contains("Command    python3 exp.py --epochs 3\n"))
            #expect(text.contains("Duration   "))
        }
    }

    @Test func failedRunHasItsExitCode() async throws {
        try await withFakeKubernetes { server in
            let project = try KubernetesProject(server: server)
            let name = try await launch(project, name: "broken")
            try await server.controller.run(job: name, namespace: "proj", lines: ["boom"], exitCode: 3)
            let status = try await project.jobs().status(name)
            #expect(status.state == .failed)
            #expect(status.exitCode == 3)
            #expect(status.stateDescription == "FAILED (BackoffLimitExceeded), exit code 3")
        }
    }

    @Test func logsOfAPendingJobSayThereIsNoOutputYet() async throws {
        try await withFakeKubernetes { server in
            let project = try KubernetesProject(server: server)
            let name = try await launch(project, name: "train")
            let pod = try await server.controller.createPod(forJob: name, namespace: "proj").metadata.name ?? ""
            try await server.controller.schedule(pod: pod, namespace: "proj")
            let sink = RecordingSink()
            let end = try await project.jobs().logs(name, follow: false, sink: sink)
            #expect(end.state == .submitted)
            #expect(await sink.text(of: .output).isEmpty)
            #expect(
                await sink.text(of: .error)
                    == "mrun: job \(name) is PENDING (ContainerCreating): no output yet; follow it with 'mrun logs \(name) -f'\n"
            )
        }
    }

    @Test func logsFollowWaitsForThePodThenPrintsUntilTheContainerEnds() async throws {
        try await withFakeKubernetes { server in
            let project = try KubernetesProject(server: server)
            let name = try await launch(project, name: "train")
            let jobs = try project.jobs()
            let sink = RecordingSink()
            let cluster = server.controller
            async let followed = jobs.logs(String(name.prefix(8)), follow: true, sink: sink)

            let waiting = "mrun: waiting for the pod of job \(name) to start"
            try await waitUntil { await sink.text(of: .error).contains(waiting + "\n") }
            let pod = try await cluster.createPod(forJob: name, namespace: "proj").metadata.name ?? ""
            try await waitUntil { await sink.text(of: .error).contains(waiting + " (not scheduled yet)\n") }
            try await cluster.schedule(pod: pod, namespace: "proj")
            try await waitUntil { await sink.text(of: .error).contains(waiting + " (ContainerCreating)\n") }
            // The log answers as for a pod not started yet, once more after the pod has.
            server.faults.inject(.status(204), count: 1, method: "GET", pathContains: "/log")
            try await cluster.start(pod: pod, namespace: "proj")
            try await cluster.log(pod: pod, namespace: "proj", "epoch 1/3\n")
            // The follower connects within its poll interval and gets what was written so far.
            try await waitUntil { await sink.text(of: .output).contains("epoch 1/3") }
            try await cluster.log(pod: pod, namespace: "proj", "epoch 2/3\n")
            try await cluster.log(pod: pod, namespace: "proj", "epoch 3/3\n")
            try await waitUntil { await sink.text(of: .output).contains("epoch 3/3") }
            try await cluster.finish(pod: pod, namespace: "proj", exitCode: 0)

            let end = try await followed
            #expect(end.state == .completed)
            #expect(await sink.text(of: .output) == "epoch 1/3\nepoch 2/3\nepoch 3/3\n")
            let notes = await sink.text(of: .error)
            #expect(
                notes
                    == "\(waiting)\n\(waiting) (not scheduled yet)\n\(waiting) (ContainerCreating)\n"
                    + "mrun: job \(name) COMPLETED, exit code 0\n")
            #expect(server.requests.contains { $0.path.hasSuffix("/log") && $0.status == 204 })
        }
    }

    @Test func aFollowTheServerEndsEarlyIsReopenedWithoutRepeatingOutput() async throws {
        try await withFakeKubernetes { server in
            let project = try KubernetesProject(server: server)
            let name = try await launch(project, name: "train")
            let cluster = server.controller
            let pod = try await cluster.createPod(forJob: name, namespace: "proj").metadata.name ?? ""
            try await cluster.start(pod: pod, namespace: "proj")
            try await cluster.log(pod: pod, namespace: "proj", "one\n")
            let sink = RecordingSink()
            async let followed = project.jobs().logs(name, follow: true, sink: sink)
            try await waitUntil { await sink.text(of: .output) == "one\n" }
            // The API server closes the stream while the container still runs (e.g. its timeout).
            await cluster.endFollowers(pod: pod, namespace: "proj", container: "main")
            try await cluster.log(pod: pod, namespace: "proj", "two\n")
            try await waitUntil { await sink.text(of: .output).contains("two") }
            try await cluster.log(pod: pod, namespace: "proj", "three\n")
            try await waitUntil { await sink.text(of: .output).contains("three") }
            try await cluster.finish(pod: pod, namespace: "proj", exitCode: 0)
            #expect(try await followed.state == .completed)
            #expect(await sink.text(of: .output) == "one\ntwo\nthree\n")
            let follows = server.requests.filter { $0.path.hasSuffix("/\(pod)/log") && $0.query["follow"] == "true" }
            #expect(follows.count >= 2, "the follow was reopened")
        }
    }

    @Test func statesFromPodsThatDoNotStart() throws {
        var job = Sample.job("exp-abcde")
        job.metadata.namespace = "proj"
        job.metadata.creationTimestamp = "2026-11-21T20:00:00Z"
        job.status = .init(startTime: "2026-11-21T20:00:01Z", active: 1)
        var pod = Kubernetes.Pod(metadata: .init(name: "exp-abcde-x1"), spec: job.spec?.template.spec)
        pod.status = .init(
            phase: .pending,
            conditions: [
                .init(type: "PodScheduled", status: "False", reason: "Unschedulable", message: "0/3 nodes have a GPU")
            ])
        var status = KubernetesJobStatus(job: job, pods: [pod])
        #expect(status.stateDescription == "PENDING (Unschedulable)")
        #expect(status.message == "0/3 nodes have a GPU")

        pod.spec?.nodeName = "node-1"
        pod.status?.conditions = nil
        pod.status?.containerStatuses = [
            .init(name: "main", state: .init(waiting: .init(reason: "ImagePullBackOff", message: "pull access denied")))
        ]
        status = KubernetesJobStatus(job: job, pods: [pod])
        #expect(status.stateDescription == "PENDING (ImagePullBackOff)")
        #expect(!status.containerStarted)

        job.metadata.deletionTimestamp = "2026-11-21T20:05:00Z"
        status = KubernetesJobStatus(job: job, pods: [pod])
        #expect(status.stateDescription == "CANCELLED (being deleted)")
        let now = try #require(Kubernetes.date(from: "2026-11-21T21:02:03Z"))
        #expect(status.statusText(now: now).contains("Created    2026-11-21T20:00:00Z (1h2m ago)\n"))
        #expect(KubernetesJobStatus.age(59) == "59s" && KubernetesJobStatus.age(192) == "3m12s")
        #expect(KubernetesJobStatus.age(3 * 86400 + 4 * 3600 + 5) == "3d4h")
    }

    @Test func logsOfAFinishedJobPrintTheWholeLog() async throws {
        try await withFakeKubernetes { server in
            let project = try KubernetesProject(server: server)
            let name = try await launch(project, name: "train")
            try await server.controller.run(job: name, namespace: "proj", lines: ["a", "b"], exitCode: 3)
            let sink = RecordingSink()
            let end = try await project.jobs().logs(name, follow: true, sink: sink)
            #expect(end.stateDescription == "FAILED (BackoffLimitExceeded), exit code 3")
            #expect(await sink.text(of: .output) == "a\nb\n")
            #expect(await sink.text(of: .error) == "mrun: job \(name) FAILED (BackoffLimitExceeded), exit code 3\n")
        }
    }

    @Test func cancelDeletesARunningJobWithItsPodAndLeavesAFinishedOne() async throws {
        try await withFakeKubernetes { server in
            let project = try KubernetesProject(server: server)
            let running = try await launch(project, name: "long")
            let pod = try await server.controller.createPod(forJob: running, namespace: "proj").metadata.name ?? ""
            try await server.controller.start(pod: pod, namespace: "proj")
            let jobs = try project.jobs()
            let cancelled = try await jobs.cancel(running)
            #expect(cancelled.deleted && cancelled.podsLeft.isEmpty)
            #expect(
                cancelled.summary
                    == "Cancelled job \(running) (namespace proj): it was RUNNING, now deleted with its pods\n")
            let delete = server.requests.last { $0.method == "DELETE" }
            #expect(delete?.path == "/apis/batch/v1/namespaces/proj/jobs/\(running)")
            let deleteBody = String(decoding: delete?.body ?? Data(), as: UTF8.self)
            #expect(deleteBody.contains("\"propagationPolicy\":\"Background\""))
            #expect(await server.controller.pods(ofJob: running, namespace: "proj").isEmpty)
            let gone = await thrownError(KubernetesBackendError.self) { _ = try await jobs.status(running) }
            #expect(gone == .unknownJob(name: running, namespace: "proj", searchedAllNamespaces: true))

            let finished = try await launch(project, name: "short")
            try await server.controller.run(job: finished, namespace: "proj", exitCode: 0)
            let left = try await jobs.cancel(finished)
            #expect(!left.deleted)
            #expect(
                left.summary
                    == "Job \(finished) (namespace proj) had already ended: COMPLETED, exit code 0; left as it is\n")
        }
    }

    @Test func listShowsStateAgeAndDurationAndPrefixesNameJobs() async throws {
        try await withFakeKubernetes { server in
            let project = try KubernetesProject(server: server)
            let first = try await launch(project, name: "alpha")
            let second = try await launch(project, name: "alpine")
            try await server.controller.run(job: first, namespace: "proj", exitCode: 3)
            // A Job mrun did not make is not listed.
            var other = Sample.job("other")
            other.metadata.labels = ["team": "other"]
            _ = try await server.controller.create(other, namespace: "proj")
            let jobs = try project.jobs()
            let listed = try await jobs.list()
            #expect(listed.map(\.name) == [first, second])
            #expect(listed.map(\.state) == [.failed, .submitted])
            let table = KubernetesJobStatus.table(listed).split(separator: "\n")
            #expect(
                table.first?.split(separator: " ", omittingEmptySubsequences: true) == [
                    "NAME", "STATE", "EXIT", "AGE", "DURATION",
                ])
            #expect(table.dropFirst().first?.split(separator: " ").prefix(3) == [Substring(first), "FAILED", "3"])
            #expect(try await jobs.list(all: true).count == 3)

            #expect(try await jobs.status(String(first.prefix(6))).name == first)
            #expect(try await jobs.status("proj/\(second)").name == second)
            let ambiguous = await thrownError(KubernetesBackendError.self) { _ = try await jobs.status("al") }
            #expect(ambiguous == .ambiguousJob(prefix: "al", namespace: "proj", candidates: [first, second].sorted()))
            #expect(ambiguous?.description.hasPrefix("'al' names 2 Jobs in namespace \"proj\": ") == true)
            let unknown = await thrownError(KubernetesBackendError.self) { _ = try await jobs.status("zzz") }
            #expect(unknown == .unknownJob(name: "zzz", namespace: "proj", searchedAllNamespaces: true))
        }
    }

    @Test func jobsInAnotherNamespaceAreFoundWhereTheUserMayListThem() async throws {
        try await withFakeKubernetes { server in
            var project = try KubernetesProject(server: server)
            project.context.kubernetes.namespace = "elsewhere"
            let name = try await launch(project, name: "far")
            project.context.kubernetes.namespace = nil
            #expect(try await project.jobs().status(name).namespace == "elsewhere")
        }
    }
}

/// Polls `condition` until it holds, for up to `timeout`.
func waitUntil(
    timeout: Duration = .seconds(10), sourceLocation: SourceLocation = #_sourceLocation,
    _ condition: () async throws -> Bool
) async throws {
    let clock = ContinuousClock()
    let deadline = clock.now.advanced(by: timeout)
    while clock.now < deadline {
        if try await condition() { return }
        try await Task.sleep(for: .milliseconds(20))
    }
    Issue.record("condition not met within \(timeout)", sourceLocation: sourceLocation)
}
