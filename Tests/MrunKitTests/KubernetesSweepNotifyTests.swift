import FakeKubernetes
import Foundation
import Testing

@testable import KubernetesAPI
@testable import MrunBackends
@testable import MrunConfig
@testable import MrunPlan
@testable import MrunSupport

/// A Kubernetes sweep tells its end once, from the point that ends last: its pods count the ends
/// in a file on the project's claim (STORAGE_DIR), as a Slurm array's tasks do in the job directory.
@Suite struct KubernetesSweepNotifyTests {
    @Test func theLastPointSendsTheSweepsOneMessageAndTheFirstItsStart() async throws {
        try await withFakeKubernetes { server in
            var project = try KubernetesProject(server: server)
            let receiver = try WebhookReceiver(in: project.sandbox)
            project.context.notify = [receiver.url]
            project.context.notifyOn = ["start", "end"]
            try project.sandbox.write("import sys\nraise SystemExit(int(sys.argv[-1]) % 2)\n", to: "exp.py")
            let sweep = try project.sweep(["x=1,2,3"])
            let claim = project.sandbox.root.appendingPathComponent("claim")
            for plan in sweep.plans {
                let job = try KubernetesManifests.object(Kubernetes.Job.self, from: try #require(plan.artefact(.job)))
                    .object
                let container = try #require(job.spec?.template.spec?.containers.first)
                // The pod's environment: the Job's values, the Secret's, and what a cluster sets.
                var environment = ProcessInfo.processInfo.environment
                for variable in container.env ?? [] { environment[variable.name] = variable.value }
                for secret in plan.secrets { environment[secret.name] = secret.value }
                environment["STORAGE_DIR"] = claim.path
                environment["KUBERNETES_SERVICE_HOST"] = "10.0.0.1"
                let ran = try await SystemProcessRunner().run(
                    (container.command ?? []) + (container.args ?? []), environment: environment,
                    workingDirectory: project.sandbox.project.path)
                #expect(ran.status == .exited(plan.experiment.name.hasSuffix("-1") ? 0 : 1), "\(ran.standardError)")
            }
            let posts = try receiver.posts()
            let ends = posts.filter { $0["counts"] != nil }
            #expect(ends.count == 1, "one message for the sweep: \(posts)")
            #expect(ends.first?["counts"] as? [String: Int] == ["completed": 1, "failed": 2], "\(ends)")
            let starts = posts.filter { $0["state"] as? String == "running" }
            #expect(starts.count == 1 && (starts.first?["name"] as? String)?.hasSuffix("-0") == true, "\(starts)")
            #expect(posts.count == 2, "no message per point: \(posts)")
        }
    }

    /// The launch ids are known once recorded, after the manifest was rendered: the created Jobs
    /// carry them (MRUN_LAUNCH_ID; an indexed sweep's MRUN_LAUNCH_IDS by index) for the notifier.
    @Test func createdJobsCarryTheirLaunchIDs() async throws {
        try await withFakeKubernetes { server in
            let project = try KubernetesProject(server: server)
            let recorder = try project.recorder()
            let sweep = try project.sweep(["x=1,2"])
            let sink = RecordingSink()
            #expect(try await project.backend(sink, recorder: recorder).execute(sweep) == 0)
            let ids = Set(try recorder.store.list().map(\.id))
            let bodies = server.createBodies("jobs").map { String(decoding: $0, as: UTF8.self) }
            #expect(bodies.count == 2)
            let carried = Set(
                bodies.compactMap { body -> String? in
                    guard let range = body.range(of: #""name":"MRUN_LAUNCH_ID","value":""#) else { return nil }
                    return String(body[range.upperBound...].prefix { $0 != "\"" })
                })
            #expect(carried == ids, "\(carried) vs \(ids)")
        }
    }
}
