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

/// `mrun resume` and `mrun rerun` on a Kubernetes context through the real binary: the test bed's
/// docker engine and registry hold the image, the fake API server receives the Jobs.
@Suite(.serialized) struct KubernetesRelaunchTests {
    /// A project of `fixture` with a context `k` reaching `server`; returns the binary's environment.
    func setUp(_ fixture: ImageFixture, server: FakeKubernetesServer, bed: TestBed) async throws -> [String: String] {
        let add = try await CLI.run(
            [
                "context", "add", "--name", "k", "--type", "kubernetes", "--registry_url", bed.registry,
                "--base_image", bed.baseImage, "--project", "mrun-k8s-relaunch",
            ], sandbox: fixture.sandbox)
        #expect(add.status == 0, "\(add.standardError)")
        return fixture.variables.merging([
            "KUBECONFIG": try server.kubeconfig(for: .certificate("alice")).path,
            "NEPTUNE_API_TOKEN": "nep-TOKEN-relaunch",
        ]) { $1 }
    }

    func jobs(_ server: FakeKubernetesServer) async -> [Kubernetes.Job] {
        await server.controller.all(Kubernetes.Job.self, namespace: "mrun-k8s-relaunch")
    }

    func imageTags(_ jobs: [Kubernetes.Job]) -> [String] {
        Array(
            Set(
                jobs.compactMap {
                    $0.spec?.template.spec?.containers.first?.image.map { String($0.prefix { $0 != "@" }) }
                }))
    }

    @Test func anInterruptedSweepIsResumedCreatingOnlyTheMissingJobs() async throws {
        let bed = try await TestBed.withRegistries()
        try await withFakeKubernetes { server in
            let fixture = try ImageFixture(bed: bed)
            let sandbox = fixture.sandbox
            let env = try await setUp(fixture, server: server, bed: bed)
            // Three of the six creates are refused: the sweep is left with three Jobs.
            server.faults.inject(.status(403), count: 3, method: "POST", pathContains: "/jobs")
            let first = try await CLI.run(
                ["--context", "k", "run", "exp.py", "--zip", "n=0,1,2,3,4,5", "--", "--epochs", "2"],
                sandbox: sandbox, environment: env)
            #expect(first.status == 1, "\(first.standardError)")
            #expect(
                first.standardError.contains("3 of 6 Jobs of the sweep could not be created"), "\(first.standardError)")
            let id = try HistoryCLITests.sweepID(first.standardOutput)
            let created = Set(await jobs(server).compactMap(\.metadata.name))
            #expect(created.count == 3)
            let history = try HistoryCLITests.history(sandbox)
            let before = try history.launches(sweep: id)
            #expect(before.count == 6)
            #expect(Set(before.filter { $0.jobId != nil }.map(\.experimentName)) == created)
            #expect(before.filter { $0.jobId == nil }.allSatisfy { $0.state == .failed })
            let missing = before.filter { $0.jobId == nil }.compactMap(\.sweepIndex).sorted()

            let resumed = try await CLI.run(["resume", id], sandbox: sandbox, environment: env)
            #expect(resumed.status == 0, "\(resumed.standardError)")
            #expect(
                resumed.standardError.contains(
                    "resuming sweep \(id): 3 of 6 points (\(missing.map(String.init).joined(separator: ", ")))"),
                "\(resumed.standardError)")
            #expect(resumed.standardError.contains("is already in the registry; no build, no push"))
            #expect(resumed.standardOutput.hasSuffix("Created 3 jobs in namespace mrun-k8s-relaunch\n"))
            let all = await jobs(server)
            #expect(all.count == 6)
            #expect(Set(all.compactMap(\.metadata.name)) == Set((0..<6).map { "exp-\(id)-\($0)" }))
            #expect(server.createBodies("jobs").count == 6, "each Job created once")
            let resumedArgs = Set(all.compactMap { $0.spec?.template.spec?.containers.first?.args })
            #expect(resumedArgs == Set((0..<6).map { ["--epochs", "2", "--n", "\($0)"] }))

            let again = try await CLI.run(["resume", id], sandbox: sandbox, environment: env)
            #expect(again.status == 0, "\(again.standardError)")
            #expect(again.standardOutput == "Sweep \(id): all 6 points have been launched; nothing to resume\n")
            #expect(server.createBodies("jobs").count == 6)
            let after = try history.launches(sweep: id).filter { $0.jobId != nil }
            #expect(after.compactMap(\.sweepIndex).sorted() == Array(0..<6), "one submitted launch per point")
            await fixture.removeImages(imageTags(all))
        }
    }

    @Test func rerunOfAnUnchangedTreeReusesTheRecordedDigest() async throws {
        let bed = try await TestBed.withRegistries()
        try await withFakeKubernetes { server in
            let fixture = try ImageFixture(bed: bed)
            let sandbox = fixture.sandbox
            let env = try await setUp(fixture, server: server, bed: bed)
            try sandbox.write(
                "project: team/mrun-k8s-relaunch\nparameters:\n  lr: 0.01\n  opt: adam\n", to: "neptune.yaml")
            let first = try await CLI.run(
                ["--context", "k", "run", "--config", "neptune.yaml", "exp.py", "--", "--epochs", "3"],
                sandbox: sandbox, environment: env)
            #expect(first.status == 0, "\(first.standardError)")
            #expect(first.standardError.contains("mrun: pushed "))
            let history = try HistoryCLITests.history(sandbox)
            let original = try #require(try history.list().first)
            let digest = try #require(original.imageDigest)

            let rerun = try await CLI.run(["rerun", original.id], sandbox: sandbox, environment: env)
            #expect(rerun.status == 0, "\(rerun.standardError)")
            #expect(rerun.standardError.contains("is already in the registry; no build, no push"))
            #expect(!rerun.standardError.contains("Step ") && !rerun.standardError.contains("pushing"))
            #expect(!rerun.standardError.contains("code changed"), "\(rerun.standardError)")

            let launches = try history.list()
            #expect(launches.count == 2)
            let again = try #require(launches.first { $0.id != original.id })
            #expect(again.imageDigest == digest, "exactly the recorded image")
            #expect(again.args == original.args && again.args == ["--epochs", "3"])
            #expect(again.parameters == original.parameters && original.parameters == ["lr": "0.01", "opt": "adam"])
            #expect(again.codeHash == original.codeHash && again.contentHash == original.contentHash)
            #expect(again.inputs?.rerunOf == original.id)

            let all = await jobs(server)
            #expect(all.count == 2)
            let firstJob = try #require(all.first { $0.metadata.name == original.jobId })
            let secondJob = try #require(all.first { $0.metadata.name == again.jobId })
            let before = try #require(firstJob.spec?.template.spec?.containers.first)
            let after = try #require(secondJob.spec?.template.spec?.containers.first)
            #expect(after.image?.hasSuffix("@\(digest)") == true, "\(after.image ?? "")")
            #expect(after.image == before.image)
            #expect(after.args == before.args && after.command == before.command)
            let params = { (container: Kubernetes.Container) in container.env?.first { $0.name == "MRUN_PARAMS" }?.value
            }
            #expect(params(after) == params(before) && params(after) != nil)
            await fixture.removeImages(imageTags(all))
        }
    }
}
