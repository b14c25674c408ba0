import FakeKubernetes
import Foundation
import Testing

@testable import MrunKit
@testable import KubernetesAPI
@testable import MrunConfig
@testable import MrunHistory
@testable import MrunSupport

/// A spec of two points, zipped, whose experiment asks get_configuration() for its parameters.
enum MrunnerSpecFixture {
    static let spec = """
        from mrunner.helpers.specification_helper import create_experiments_helper
        experiments_list = create_experiments_helper(
            experiment_name="cluster", base_config={"model_depth": 5}, script="python train.py",
            python_path=".", paths_to_dump="", tags=["cluster"],
            params_grid={"lr___": [0.1, 0.01], "batch___": [16, 32]})

        """

    /// What the experiment prints for each point.
    static let lines = ["lr=0.1 batch=16 depth=5 via-attr=0.1\n", "lr=0.01 batch=32 depth=5 via-attr=0.01\n"]

    static func write(into sandbox: Sandbox) throws {
        try sandbox.write(PythonSpecTests.experiment, to: "train.py")
        try sandbox.write(spec, to: "experiment_conf.py")
    }
}

extension SlurmTests {
    /// The module goes with the code to the real cluster, one job array for the spec's points.
    @Suite struct MrunnerSpecOnSlurm {
        @Test func anExperimentCallingGetConfigurationGetsItsPointOnTheCluster() async throws {
            let slurm = try await SlurmSandbox()
            try MrunnerSpecFixture.write(into: slurm.sandbox)
            let run = try await slurm.mrun(["run", "--spec", "experiment_conf.py"])
            #expect(run.status == 0, "\(run.standardError)")
            let history = try HistoryStore(home: slurm.sandbox.mrunHome)
            let points = try history.list().sorted { ($0.sweepIndex ?? 0) < ($1.sweepIndex ?? 0) }
            #expect(points.count == 2)
            for (point, line) in zip(points, MrunnerSpecFixture.lines) {
                let job = try #require(point.jobId)
                #expect(try await slurm.waitForEnd(job) == "COMPLETED, exit code 0", "point \(job)")
                let out = try await slurm.mrun(["logs", job]).standardOutput
                #expect(out.contains(line), "\(job): \(out)")
            }
            let shipped = try await slurm.testbed.remote(
                "ls \(slurm.workdir)/*/cluster-*/mrunner/helpers/client_helper.py")
            #expect(shipped.status == 0, "the module is in the job directory: \(shipped.error)")
            #expect(
                !FileManager.default.fileExists(atPath: slurm.sandbox.project.appendingPathComponent("mrunner").path))

            // Unchanged code, the module included, is not sent again.
            let again = try await slurm.mrun(["run", "--spec", "experiment_conf.py", "--limit", "1"])
            #expect(again.status == 0, "\(again.standardError)")
            #expect(again.standardError.contains("rsync sent 0 of 7 files (0 bytes)"), "\(again.standardError)")
            let earlier = Set(points.map(\.id))
            let newest = try #require(try history.list().first { !earlier.contains($0.id) }?.jobId)
            #expect(try await slurm.waitForEnd(newest) == "COMPLETED, exit code 0")
            try await slurm.cleanUp()
        }
    }
}

/// Through the Kubernetes path: the real docker engine and registry build the image with the
/// module, the fake API server gets the Jobs, and each Job's container, run from the pushed image
/// with its command and environment, prints its point's parameters.
@Suite(.serialized) struct KubernetesMrunnerSpecTests {
    @Test func eachJobsContainerGetsItsPointFromGetConfiguration() async throws {
        let bed = try await TestBed.withRegistries()
        try await withFakeKubernetes { server in
            let fixture = try ImageFixture(bed: bed)
            let sandbox = fixture.sandbox
            try MrunnerSpecFixture.write(into: sandbox)
            let kubernetes = KubernetesRunTests()
            try await kubernetes.addContext(sandbox, registry: bed.registry, baseImage: bed.baseImage)
            let env = try kubernetes.environment(fixture, server: server, token: "nep-TOKEN-mrunner-spec")
            let result = try await CLI.run(
                ["--context", "k", "run", "--spec", "experiment_conf.py"], sandbox: sandbox, environment: env)
            #expect(result.status == 0, "\(result.standardError)")
            #expect(
                result.standardOutput.contains("Created 2 jobs in namespace mrun-k8s-e2e"), "\(result.standardOutput)")
            let jobs = await server.controller.all(Kubernetes.Job.self, namespace: "mrun-k8s-e2e")
            #expect(jobs.count == 2)
            let network = bed.network.map { ["--network", $0] } ?? []
            var printed: [String] = []
            var tags: Set<String> = []
            for job in jobs {
                let container = try #require(job.spec?.template.spec?.containers.first)
                let image = try #require(container.image)
                tags.insert(String(image.prefix { $0 != "@" }))
                let variables = (container.env ?? []).compactMap { variable in
                    variable.value.map { ["-e", "\(variable.name)=\($0)"] }
                }.flatMap { $0 }
                let command = container.command ?? []
                let run = try await fixture.docker(
                    ["run", "--rm"] + network + variables
                        + ["-w", container.workingDir ?? "/", "--entrypoint", command.first ?? ""] + [image]
                        + command.dropFirst() + (container.args ?? []))
                #expect(run.status == 0, "\(run.standardError)")
                printed.append(run.standardOutput)
            }
            for line in MrunnerSpecFixture.lines {
                #expect(printed.contains { $0.contains(line) }, "\(printed)")
            }
            await fixture.removeImages(Array(tags))
        }
    }
}

extension SSHHostTests {
    /// The module goes with the code to each ssh host (CodeShipper's staging, as on Slurm).
    @Suite struct MrunnerSpecOnSSH {
        @Test func eachHostsPointGetsItsParametersFromGetConfiguration() async throws {
            let lab = try await SSHSandbox()
            try MrunnerSpecFixture.write(into: lab.sandbox)
            let run = try await lab.mrun(["run", "--spec", "experiment_conf.py"])
            #expect(run.status == 0, "\(run.standardError)")
            let history = try HistoryStore(home: lab.sandbox.mrunHome)
            let points = try history.list().sorted { ($0.sweepIndex ?? 0) < ($1.sweepIndex ?? 0) }
            #expect(points.count == 2)
            for (point, line) in zip(points, MrunnerSpecFixture.lines) {
                #expect(try await lab.waitFor(point.id, ["COMPLETED", "FAILED"]) == "COMPLETED, exit code 0")
                let logs = try await lab.mrun(["logs", point.id]).standardOutput
                #expect(logs.contains(line), "\(point.id): \(logs)")
            }
            try await lab.cleanUp()
        }
    }
}
