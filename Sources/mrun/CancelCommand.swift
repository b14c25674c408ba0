import ArgumentParser
import MrunKit

struct CancelCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cancel", abstract: "Cancel a job and wait until it has ended.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Job id (Slurm) or name (Kubernetes), as 'mrun run' printed it.") var job: String

    func run() async throws {
        if let context = try global.kubernetesContext() {
            let done = try await KubernetesJobs.using(context: context, host: global.host) { try await $0.cancel(job) }
            print(done.summary, terminator: "")
            return
        }
        let (before, after) = try await global.slurmJobs().cancel(job)
        if before.state.isFinal {
            print("Job \(job) had already ended: \(before.stateDescription)")
        } else {
            print("Cancelled job \(job) (\(after.name)): \(after.stateDescription)")
        }
    }
}
