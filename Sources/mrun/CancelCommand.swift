import ArgumentParser
import MrunKit

struct CancelCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cancel", abstract: "Cancel a Slurm job and wait until it has ended.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Job id, as 'mrun run' printed it.") var job: String

    func run() async throws {
        let (before, after) = try await global.slurmJobs().cancel(job)
        if before.state.isFinal {
            print("Job \(job) had already ended: \(before.stateDescription)")
        } else {
            print("Cancelled job \(job) (\(after.name)): \(after.stateDescription)")
        }
    }
}
