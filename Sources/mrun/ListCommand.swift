import ArgumentParser
import MrunKit

struct ListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List your experiments' jobs on a Slurm context.")
    @OptionGroup var global: GlobalOptions
    @Flag(help: "Include jobs whose names mrun did not give.") var all = false

    func run() async throws {
        print(SlurmJob.table(try await global.slurmJobs().list(all: all)), terminator: "")
    }
}
