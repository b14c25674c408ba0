import Foundation
import Testing

@testable import MrunKit
@testable import MrunConfig
@testable import MrunPlan

/// Gangs on the real Slurm test bed (one node): srun starts the ranks through mrun's starter.
extension SlurmTests {
    @Suite struct Gangs {
        func slurm() async throws -> SlurmSandbox {
            let slurm = try await SlurmSandbox()
            try slurm.sandbox.write(GangTests.script, to: "exp.py")
            return slurm
        }

        @Test func twoProcessesOnTheNodeGetTheirRanksFromSlurm() async throws {
            let slurm = try await slurm()
            let (_, id) = try await slurm.submit(
                ["exp.py", "--procs_per_node", "2", "--master_port", "29601", "--", "--epochs", "1"])
            #expect(try await slurm.waitForEnd(id) == "COMPLETED, exit code 0")
            let logs = try await slurm.mrun(["logs", id])
            let ranks = try GangTests.ranks(logs.standardOutput)
            #expect(ranks.keys.sorted() == ["0", "1"], "\(logs.standardOutput)")
            for (rank, values) in ranks {
                #expect(values["RANK"] == rank && values["LOCAL_RANK"] == rank)
                #expect(values["WORLD_SIZE"] == "2" && values["NODE_RANK"] == "0" && values["NNODES"] == "1")
                #expect(values["MASTER_PORT"] == "29601" && values["args"] == "--epochs 1")
                #expect(values["MASTER_ADDR"]??.isEmpty == false)
            }
        }

        @Test func aFailingRankFailsTheJobWithItsStatus() async throws {
            let slurm = try await slurm()
            let (_, id) = try await slurm.submit(["exp.py", "--procs_per_node", "2", "--", "--fail"])
            let end = try await slurm.waitForEnd(id)
            #expect(end.hasPrefix("FAILED"), "\(end)")
        }

        @Test func moreNodesThanTheClusterHasIsOneLineAtSubmission() async throws {
            let slurm = try await slurm()
            let result = try await slurm.mrun(["run", "exp.py", "--nodes", "2", "--procs_per_node", "1"])
            #expect(result.status != 0)
            let lines = result.standardError.split(separator: "\n").filter { $0.hasPrefix("error:") }
            #expect(lines.count == 1, "\(result.standardError)")
            #expect(!result.standardOutput.contains("Submitted job"))
        }

        /// mrunner's keys alone keep sbatch's meaning: one command, `--nodes` and `--ntasks` as given.
        @Test func nodesAndNtasksAloneAreSbatchsOwn() throws {
            let fixture = try PlanFixture()
            var context = PlanFixture.slurm
            context.gang.nodes = 1
            context.slurm.ntasks = 2
            let plan = try fixture.builder().plan(PlanFixture.request, context: context)
            #expect(!plan.shape.isGang)
            let script = try #require(plan.artefact(.sbatch)).content
            #expect(script.contains("#SBATCH --nodes=1\n") && script.contains("#SBATCH --ntasks=2\n"))
            #expect(!script.contains("srun") && !script.contains("--ntasks-per-node"))

            context.gang.procsPerNode = 4
            let gang = try fixture.builder().plan(PlanFixture.request, context: context)
            let gangScript = try #require(gang.artefact(.sbatch)).content
            #expect(gangScript.contains("#SBATCH --ntasks-per-node=4\n") && !gangScript.contains("--ntasks=2"))
            #expect(gangScript.contains("exec srun --kill-on-bad-exit=1 python3 \"$mrun_starter\""))
        }
    }
}
