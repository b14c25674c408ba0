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

/// Kubernetes sweeps against the fake API server: one image, one Job per point created
/// concurrently, idempotent when submitted again.
@Suite struct KubernetesSweepTests {
    func execute(_ project: KubernetesProject, _ sweep: SweepPlan, maxConcurrentCreates: Int = 32) async
        -> KubernetesProject.Outcome
    {
        let sink = RecordingSink()
        do {
            let status = try await project.backend(sink, maxConcurrentCreates: maxConcurrentCreates).execute(sweep)
            return .init(
                status: status, error: nil, output: await sink.text(of: .output), notes: await sink.text(of: .error))
        } catch {
            return .init(
                status: nil, error: error, output: await sink.text(of: .output), notes: await sink.text(of: .error))
        }
    }

    @Test func twelvePointsAreTwelveJobsWithTheirParametersAndAgainNone() async throws {
        try await withFakeKubernetes { server in
            let project = try KubernetesProject(server: server)
            let sweep = try project.sweep(["lr=0.1,0.01,0.001", "batch=16,32,64,128"])
            #expect(sweep.plans.count == 12)
            let first = await execute(project, sweep)
            #expect(first.status == 0, "\(first.message)")
            #expect(
                first.output
                    == "Sweep swp01: 12 points (exp-swp01-0 … exp-swp01-11)\nCreated 12 jobs in namespace proj\n")
            #expect(project.images.calls == 1, "one image for every point")

            let jobs = await server.controller.all(Kubernetes.Job.self, namespace: "proj")
            #expect(jobs.count == 12)
            for (index, point) in sweep.points.enumerated() {
                let name = "exp-swp01-\(index)"
                let job = try #require(jobs.first { $0.metadata.name == name })
                let container = try #require(job.spec?.template.spec?.containers.first)
                #expect(container.args == ["--epochs", "1"] + point.arguments)
                let params = container.env?.first { $0.name == "MRUN_PARAMS" }?.value
                #expect(params == sweep.plans[index].experiment.parameters)
                #expect(job.metadata.labels?["mrun/sweep"] == "exp-swp01")
                #expect(job.metadata.labels?[KubernetesBackend.sweepIDLabel] == "swp01")
                #expect(job.metadata.labels?[KubernetesBackend.sweepIndexLabel] == String(index))
                #expect(job.spec?.template.metadata?.labels?[KubernetesBackend.sweepIndexLabel] == String(index))
            }
            #expect(sweep.points[5].arguments == ["--lr", "0.01", "--batch", "32"])
            #expect(
                server.createBodies("jobs").allSatisfy {
                    !String(decoding: $0, as: UTF8.self).contains(KubernetesProject.token)
                })

            // Submitted again (as after an interruption): every Job is there already, none is added.
            let created = server.createBodies("jobs").count
            let second = await execute(project, sweep)
            #expect(second.status == 0, "\(second.message)")
            #expect(
                second.output.hasSuffix(
                    "Created 0 jobs in namespace proj; 12 were there already, from an earlier submission of this sweep\n"
                ))
            #expect(server.createBodies("jobs").count == created)
            #expect(await server.controller.all(Kubernetes.Job.self, namespace: "proj").count == 12)
        }
    }

    @Test func everyPointIsRecordedWithItsJobAndTheImageDigest() async throws {
        try await withFakeKubernetes { server in
            let project = try KubernetesProject(server: server)
            let sweep = try project.sweep(["seed=1,2,3"], suffix: "hist1")
            let recorder = try project.recorder()
            await recorder.record(sweep)
            let sink = RecordingSink()
            #expect(try await project.backend(sink, recorder: recorder).execute(sweep) == 0)
            let launches = try recorder.store.launches(sweep: "hist1").sorted {
                ($0.sweepIndex ?? 0) < ($1.sweepIndex ?? 0)
            }
            #expect(launches.map(\.jobId) == ["exp-hist1-0", "exp-hist1-1", "exp-hist1-2"])
            #expect(launches.allSatisfy { $0.state == .submitted && $0.imageDigest == StubImageBuilder.digest })
            #expect(launches.map(\.sweepIndex) == [0, 1, 2])

            // The history follows them through the cluster.
            try await server.controller.run(job: "exp-hist1-1", namespace: "proj", lines: ["x"], exitCode: 0)
            var control = KubernetesJobControl(
                context: project.context, host: project.host, http: KubernetesHTTPClient(), sink: RecordingSink(),
                warn: TestEnvironment.warn, options: .fast())
            control.pollInterval = .milliseconds(20)
            let states = try await control.refresh(launches)
            #expect(states[launches[1].id]?.state == .completed)
            #expect(states[launches[1].id]?.exitCode == 0)
            #expect(states[launches[0].id]?.state == .submitted)
            let log = RecordingSink()
            #expect(try await control.logs(launches[1], follow: true, sink: log).summary == "COMPLETED, exit code 0")
            #expect(await log.text(of: .output) == "x\n")
            let (before, after) = try await control.cancel(launches[2])
            #expect(before.state == .submitted && after.state == .cancelled)
            #expect(
                try await control.status(launches[2]).state == .unknown, "the Job is gone, the launch not yet final")
            try await control.http.shutdown()
        }
    }

    @Test func aPointWhoseNameIsTakenBySomeoneElseFailsAlone() async throws {
        try await withFakeKubernetes { server in
            let project = try KubernetesProject(server: server)
            let sweep = try project.sweep(["seed=1,2,3"], suffix: "clash")
            _ = try await server.makeNamespace("proj")
            _ = try await server.controller.create(Sample.job("exp-clash-1"), namespace: "proj")
            let outcome = await execute(project, sweep)
            #expect(
                outcome.message
                    == "1 of 3 Jobs of the sweep could not be created in namespace \"proj\" (2 created, 0 already there); the first error: point 1: Job \"exp-clash-1\" already exists in namespace \"proj\" and was not created by this launch; delete it ('mrun cancel exp-clash-1') or choose another --name"
            )
            #expect(await server.controller.all(Kubernetes.Job.self, namespace: "proj").count == 3)
        }
    }

    @Test func twoHundredPointsWithThirtyTwoInFlight() async throws {
        try await withFakeKubernetes { server in
            let project = try KubernetesProject(server: server)
            let clock = ContinuousClock()
            let planning = clock.now
            let sweep = try project.sweep([
                "a=" + (0..<20).map(String.init).joined(separator: ","), "b=0,1,2,3,4,5,6,7,8,9",
            ])
            let planned = planning.duration(to: clock.now)
            #expect(sweep.plans.count == 200)
            let start = clock.now
            let outcome = await execute(project, sweep)
            let elapsed = start.duration(to: clock.now)
            #expect(outcome.status == 0, "\(outcome.message)")
            #expect(await server.controller.all(Kubernetes.Job.self, namespace: "proj").count == 200)
            let connections = server.acceptedConnections
            // 32 in flight share pooled connections: far fewer than one per Job. A loaded machine may
            // see a few connections replaced, so the bound is loose.
            #expect(connections < 100, "the creates share the pooled connections")
            print(
                "200-job Kubernetes sweep against the fake: planned in \(planned), submitted in \(elapsed)"
                    + " over \(connections) connections")
        }
    }
}
