import ArgumentParser
import MrunKit

struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Show a Slurm job's state, exit code and output file.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Job id, as 'mrun run' printed it.") var job: String

    func run() async throws {
        print(try await global.slurmJobs().status(job).statusText, terminator: "")
    }
}
