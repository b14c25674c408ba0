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

/// An image step that fails, as a broken build or an unreachable registry does.
struct FailingImageBuilder: ImageBuilder {
    struct Failure: Error, CustomStringConvertible {
        var description: String { "the registry refused the push" }
    }

    func ensureImage(for plan: ExperimentPlan, progress: some OutputSink) async throws -> ImageResult {
        throw Failure()
    }
}

/// Kubernetes launches that fail before their Job exists are in the history, as failed launches
/// without a Job, which `mrun resume` launches again.
@Suite struct KubernetesHistoryTests {
    func backend(_ project: KubernetesProject, recorder: LaunchRecorder, images: (any ImageBuilder)? = nil)
        -> KubernetesBackend
    {
        KubernetesBackend(
            host: project.host, sink: RecordingSink(), http: KubernetesHTTPClient(), warn: TestEnvironment.warn,
            imageBuilder: images ?? project.images, shutsDownHTTPClient: true, clientOptions: .fast(),
            recorder: recorder)
    }

    @Test func aLaunchTheClusterRefusesIsRecordedAsFailed() async throws {
        try await withFakeKubernetes { server in
            let project = try KubernetesProject(server: server, user: .token("revoked-token"))
            let recorder = try project.recorder()
            let plan = try project.plan(name: "refused")
            project.images.missing = true
            await #expect(throws: (any Error).self) { try await backend(project, recorder: recorder).execute(plan) }
            #expect(project.images.builds == 0, "nothing is built for a launch the cluster refuses")
            let launches = try recorder.store.list()
            #expect(launches.count == 1)
            let launch = try #require(launches.first)
            #expect(launch.experimentName == plan.experiment.name)
            #expect(launch.state == .failed && launch.jobId == nil && launch.imageDigest == nil)
            #expect(launch.backend == .kubernetes && launch.args == ["--epochs", "3"])
        }
    }

    @Test func aLaunchWhoseImageFailsIsRecordedAsFailed() async throws {
        try await withFakeKubernetes { server in
            let project = try KubernetesProject(server: server)
            let recorder = try project.recorder()
            let plan = try project.plan()
            await #expect(throws: (any Error).self) {
                try await backend(project, recorder: recorder, images: FailingImageBuilder()).execute(plan)
            }
            #expect(await server.controller.all(Kubernetes.Job.self, namespace: "proj").isEmpty)
            let launch = try #require(try recorder.store.list().first)
            #expect(launch.experimentName == plan.experiment.name)
            #expect(launch.state == .failed && launch.jobId == nil)
        }
    }

    @Test func aSweepWhoseImageFailsHasEveryPointFailedAndMissing() async throws {
        try await withFakeKubernetes { server in
            let project = try KubernetesProject(server: server)
            let recorder = try project.recorder()
            let sweep = try project.sweep(["seed=1,2,3"], suffix: "nopsh")
            await recorder.record(sweep)
            await #expect(throws: (any Error).self) {
                try await backend(project, recorder: recorder, images: FailingImageBuilder()).execute(sweep)
            }
            let launches = try recorder.store.launches(sweep: "nopsh")
            #expect(launches.compactMap(\.sweepIndex).sorted() == [0, 1, 2])
            #expect(launches.allSatisfy { $0.state == .failed && $0.jobId == nil })
            let record = try #require(try recorder.store.sweep("nopsh"))
            let relauncher = Relauncher(
                history: recorder.store, environment: TestEnvironment.of(project.sandbox, host: project.host))
            #expect(try relauncher.missing(record) == [0, 1, 2], "resume launches them all")
        }
    }
}
