import FakeKubernetes
import Foundation
import Subprocess
import Testing
import Yams

@testable import MrunKit
@testable import KubernetesAPI
@testable import MrunBackends
@testable import MrunConfig
@testable import MrunHistory
@testable import MrunPlan
@testable import MrunSupport
@testable import MrunTemplates

/// Sweep plans: one shared plan (one image, one job directory, one array script) and a plan per point.
@Suite struct SweepPlanTests {
    static func spec(grid: [String] = [], zip: [String] = [], maxParallel: Int? = nil) throws -> SweepSpec {
        var spec = SweepSpec(
            grid: try grid.map { try SweepAxis.parse($0, flag: "--grid") },
            zip: try zip.map { try SweepAxis.parse($0, flag: "--zip") })
        spec.maxParallel = maxParallel
        return spec
    }

    static var standard: SweepSpec {
        get throws {
            try spec(grid: ["lr=0.1,0.01", "batch=32,64"], zip: ["opt=adam,it's a \"test\""], maxParallel: 2)
        }
    }

    @Test func slurmSweepIsOneArrayScript() throws {
        let fixture = try PlanFixture()
        let sweep = try fixture.builder().sweep(PlanFixture.request, spec: Self.standard, context: PlanFixture.slurm)
        #expect(sweep.id == "k3x9q")
        #expect(sweep.plans.map(\.experiment.name) == (0..<8).map { "train-k3x9q-\($0)" })
        #expect(Set(sweep.plans.map { $0.slurm?.jobDir }) == ["mrun/lr-sweep/train-k3x9q"], "one job directory")
        #expect(sweep.base.artefacts.map(\.name) == ["sbatch.sh"])
        #expect(sweep.plans.allSatisfy { $0.artefacts == sweep.base.artefacts }, "one script for every point")
        let script = try #require(sweep.base.artefact(.sbatch)).content
        #expect(script.contains("#SBATCH --array=0-7%2\n"))
        #expect(script.contains("#SBATCH --output=mrun/lr-sweep/train-k3x9q/slurm-%A_%a.out\n"))
        #expect(!script.contains(PlanFixture.token) && !script.contains(PlanFixture.password))
        try Golden.check(script, "slurm-sweep-sbatch.sh")
        try Golden.check(fixture.normalized(SweepPrinter.text(sweep)), "slurm-sweep-dry-run.txt")
    }

    /// The array script's case statement, run by bash for every index, hands each point exactly
    /// its arguments and MRUN_PARAMS, whatever characters the values hold.
    @Test func arrayScriptQuotesEveryValueSafely() async throws {
        let fixture = try PlanFixture()
        let values = ["a b", "it's", "\"q\"", "$HOME", "`id`", "x;y", "*", "new\nline", "ünï", "-n"]
        var spec = SweepSpec(grid: [SweepAxis(name: "v", values: values.map { SweepValue($0) })])
        spec.zip = []
        let sweep = try fixture.builder().sweep(PlanFixture.request, spec: spec, context: PlanFixture.slurm)
        let script = try #require(sweep.base.artefact(.sbatch)).content
        let start = try #require(script.range(of: "case ${SLURM_ARRAY_TASK_ID"))
        let end = try #require(script.range(of: "\nesac\n"))
        let caseStatement = String(script[start.lowerBound..<end.upperBound])
        for (index, value) in values.enumerated() {
            let program =
                "set -euo pipefail\n" + caseStatement
                + #"printf '%s\0' "$MRUN_EXPERIMENT" "$MRUN_PARAMS" "${point_args[@]}""#
            let result = try await SlurmTestbed.shell(
                ["bash", "-c", program], environment: ["SLURM_ARRAY_TASK_ID": String(index), "PATH": "/usr/bin:/bin"])
            let fields = result.output.split(separator: "\0", omittingEmptySubsequences: false).map(String.init)
            #expect(result.status == 0, "\(result.error)")
            #expect(
                fields.dropLast() == [
                    "train-k3x9q-\(index)", sweep.plans[index].experiment.parameters ?? "", "--v", value,
                ])
            let params = try JSONSerialization.jsonObject(with: Data(fields[1].utf8)) as? [String: String]
            #expect(params == ["v": value])
        }
        let outside = try await SlurmTestbed.shell(
            ["bash", "-c", caseStatement + "echo unreachable"],
            environment: ["SLURM_ARRAY_TASK_ID": "10", "PATH": "/usr/bin:/bin"])
        #expect(outside.status == 2)
        #expect(outside.error == "mrun: sweep k3x9q has no point '10'; submit it as a job array\n")
    }

    @Test func kubernetesSweepSharesOneImageAndGivesEachPointItsJob() throws {
        let fixture = try PlanFixture()
        let single = try fixture.builder().plan(PlanFixture.request, context: PlanFixture.kubernetes)
        let sweep = try fixture.builder().sweep(
            PlanFixture.request, spec: Self.standard, context: PlanFixture.kubernetes)
        let dockerfile = try #require(sweep.base.artefact(.dockerfile)).content
        #expect(dockerfile == single.artefact(.dockerfile)?.content, "the image does not depend on the points")
        #expect(dockerfile.contains(#"CMD ["--epochs", "3", "--name", "a b", "it's"]"#))
        #expect(!dockerfile.contains("--lr"))
        #expect(sweep.base.experiment.contentHash == single.experiment.contentHash)
        #expect(Set(sweep.plans.compactMap { $0.image?.tag }) == [single.image?.tag ?? ""])
        #expect(sweep.base.artefacts.map(\.name) == ["Dockerfile", "namespace.yaml", "pvc.yaml", "secret.yaml"])
        let point = sweep.plans[5]
        #expect(point.artefacts.map(\.name) == ["Dockerfile", "namespace.yaml", "pvc.yaml", "secret.yaml", "job.yaml"])
        let jobText = try #require(point.artefact(.job)).content
        try Golden.check(jobText, "kubernetes-sweep-job.yaml")
        let job = try #require(try Yams.load(yaml: jobText) as? [String: Any])
        let metadata = try #require(job["metadata"] as? [String: Any])
        #expect(metadata["name"] as? String == "train-k3x9q-5")
        #expect((metadata["labels"] as? [String: String])?["mrun/sweep"] == "train-k3x9q")
        let template = try #require((job["spec"] as? [String: Any])?["template"] as? [String: Any])
        let container = try #require(((template["spec"] as? [String: Any])?["containers"] as? [[String: Any]])?.first)
        #expect(
            container["args"] as? [String] == [
                "--epochs", "3", "--name", "a b", "it's", "--opt", "it's a \"test\"", "--lr", "0.1", "--batch", "64",
            ])
        let env = try #require(container["env"] as? [[String: Any]])
        let params = env.first { $0["name"] as? String == "MRUN_PARAMS" }?["value"] as? String
        #expect(params == #"{"opt": "it's a \"test\"", "lr": 0.1, "batch": 64}"#)
        #expect(env.first { $0["name"] as? String == "MRUN_EXPERIMENT" }?["value"] as? String == "train-k3x9q-5")
    }

    @Test func localPointsEachHaveTheirRunDirectoryAndNeptuneParametersAreExtended() throws {
        let fixture = try PlanFixture()
        try fixture.sandbox.write("parameters:\n  lr: 0.5\n  dropout: 0.1\n", to: "neptune.yaml")
        var request = PlanFixture.request
        request.neptuneConfig = "neptune.yaml"
        let sweep = try fixture.builder().sweep(request, spec: try Self.spec(grid: ["lr=1,2"]), context: .builtInLocal)
        #expect(
            sweep.plans.map { $0.local?.runDirectory }
                == ["train-k3x9q-0", "train-k3x9q-1"].map {
                    fixture.sandbox.store.runsDirectory.appendingPathComponent($0).path
                })
        let environment = sweep.plans[1].environment
        #expect(environment.first { $0.name == "MRUN_PARAMS" }?.value == #"{"dropout": "0.1", "lr": 2}"#)
        #expect(environment.filter { $0.name == "MRUN_PARAMS" }.count == 1)
        #expect(sweep.plans[1].experiment.argv.suffix(2) == ["--lr", "2"])
        #expect(sweep.base.environment.first { $0.name == "MRUN_PARAMS" }?.value == #"{"dropout": "0.1", "lr": "0.5"}"#)
        try Golden.check(fixture.normalized(SweepPrinter.text(sweep)), "local-sweep-dry-run.txt")
    }

    @Test func shuffleWithoutASeedPicksAndReportsOne() throws {
        let fixture = try PlanFixture()
        var spec = try Self.spec(grid: ["a=1,2,3,4,5,6"])
        spec.shuffle = true
        let builder = PlanBuilder(
            host: fixture.host, store: fixture.sandbox.store, suffix: { "abcde" }, randomSeed: { 1234 })
        let sweep = try builder.sweep(PlanFixture.request, spec: spec, context: .builtInLocal)
        #expect(sweep.seed == 1234)
        spec.seed = 1234
        #expect(sweep.points == (try spec.expand()))
        #expect(
            SweepPrinter.announcement(sweep)
                == "Sweep abcde: 6 points (train-abcde-0 … train-abcde-5), shuffled with --seed 1234\n")
    }

    @Test func jsonDryRunListsThePointsAndTheFirstPlan() throws {
        let fixture = try PlanFixture()
        var spec = try Self.standard
        spec.limit = 3
        let sweep = try fixture.builder().sweep(PlanFixture.request, spec: spec, context: PlanFixture.slurm)
        let text = try SweepPrinter.json(sweep)
        #expect(!text.contains(PlanFixture.token))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        #expect(object["id"] as? String == "k3x9q")
        #expect(object["count"] as? Int == 3)
        #expect(object["total_points"] as? Int == 8)
        let points = try #require(object["points"] as? [[String: Any]])
        #expect(points.map { $0["name"] as? String } == ["train-k3x9q-0", "train-k3x9q-1", "train-k3x9q-2"])
        #expect(points[1]["args"] as? [String] == ["--opt", "adam", "--lr", "0.1", "--batch", "64"])
        #expect(points[1]["params"] as? String == #"{"opt": "adam", "lr": 0.1, "batch": 64}"#)
        let plan = try #require(object["plan"] as? [String: Any])
        #expect((plan["experiment"] as? [String: Any])?["name"] as? String == "train-k3x9q-0")
    }
}
