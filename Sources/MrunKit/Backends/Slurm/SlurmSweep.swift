import Foundation

/// A sweep on Slurm is one job array: the code goes to one job directory, once, and one sbatch
/// call submits the array script, whose task N runs point N (its name, arguments and MRUN_PARAMS
/// picked by `SLURM_ARRAY_TASK_ID`), at most `--max-parallel` at a time.
extension SlurmBackend: SweepBackend {
    public func execute(_ sweep: SweepPlan) async throws -> Int32 {
        await sink.standardOutput(Array(SweepPrinter.announcement(sweep).utf8))
        let submission = try await shipAndSubmit(sweep.base)
        let id = submission.id
        let array = SlurmJob(id: id, name: sweep.name, slurmState: "PENDING")
        let output = SlurmOutput.expand(submission.absolute(submission.slurm.output), job: array)
        let last = sweep.points.count - 1
        let tasks = last == 0 ? "\(id)_0" : "\(id)_0 … \(id)_\(last)"
        await sink.standardOutput(
            Array(
                "Submitted job array \(id) (\(sweep.name), \(sweep.points.count) points: \(tasks))\nOutput: \(output) (%a: the point's index)\n"
                    .utf8))
        await record(submission, plan: sweep.base, output: output)
        await note("mrun: follow point N with 'mrun --context \(sweep.base.context.name) logs -f \(id)_N'")
        return 0
    }
}
