import Foundation
import MrunSupport
import MrunConfig
import MrunTemplates
import MrunPlan
import MrunHistory
import KubernetesAPI

/// A sweep on Slurm is one job array: the code goes to one job directory, once, and one sbatch
/// call submits the array script, whose task N runs point N (its name, arguments and MRUN_PARAMS
/// picked by `SLURM_ARRAY_TASK_ID`), at most `--max-parallel` at a time.
extension SlurmBackend {
    public func execute(_ sweep: SweepPlan) async throws -> Int32 {
        await sink.standardOutput(Array(SweepPrinter.announcement(sweep).utf8))
        let recorded = await RecordedLaunches.record(
            sweep.plans, points: sweep.points, sweepId: sweep.id, by: recorder)
        let submission: Submission
        do {
            submission = try await shipAndSubmit(sweep.base, launch: recorded.launchVariable(sweep: true))
        } catch {
            await recorded.failed()
            throw error
        }
        let id = submission.id
        await recorded.started(jobIds: sweep.points.map { "\(id)_\($0.index)" }, state: .submitted)
        let array = SlurmJob(id: id, name: sweep.name, slurmState: "PENDING")
        let output = SlurmOutput.expand(submission.absolute(submission.slurm.output), job: array)
        let indexes = sweep.points.map(\.index)
        let tasks =
            indexes.count == 1
            ? "\(id)_\(indexes[0])"
            : indexes == Array(indexes.indices)
                ? "\(id)_0 … \(id)_\(indexes.count - 1)" : indexes.map { "\(id)_\($0)" }.joined(separator: " ")
        await sink.standardOutput(
            Array(
                "Submitted job array \(id) (\(sweep.name), \(sweep.points.count) point\(sweep.points.count == 1 ? "" : "s"): \(tasks))\nOutput: \(output) (%a: the point's index)\n"
                    .utf8))
        await record(submission, plan: sweep.base, output: output)
        await note("mrun: follow point N with 'mrun --context \(sweep.base.context.name) logs -f \(id)_N'")
        return 0
    }
}
