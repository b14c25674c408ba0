import ArgumentParser
import MrunKit

struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Show a job's state and exit code (Slurm: and output file).")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Job id (Slurm) or name (Kubernetes), as 'mrun run' printed it.") var job: String

    func run() async throws {
        if let context = try global.kubernetesContext() {
            let status = try await KubernetesJobs.using(context: context, host: global.host) {
                try await $0.status(job)
            }
            print(status.statusText(), terminator: "")
            return
        }
        print(try await global.slurmJobs().status(job).statusText, terminator: "")
    }
}
