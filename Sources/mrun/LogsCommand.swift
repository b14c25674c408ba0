import ArgumentParser
import MrunKit

struct LogsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "logs", abstract: "Print a job's output; with -f, follow it until the job ends.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Job id (Slurm) or name (Kubernetes), as 'mrun run' printed it.") var job: String
    @Flag(name: [.short, .long], help: "Keep printing new output until the job ends.") var follow = false

    func run() async throws {
        if let context = try global.kubernetesContext() {
            _ = try await KubernetesJobs.using(context: context, host: global.host) {
                try await $0.logs(job, follow: follow, sink: StandardStreamsSink())
            }
            return
        }
        let end = try await global.slurmJobs().logs(job, follow: follow, sink: StandardStreamsSink())
        if end.state == .pending && !follow {
            Terminal.note("mrun: job \(job) is PENDING: no output yet; follow it with 'mrun logs -f \(job)'")
        } else if follow {
            Terminal.note("mrun: job \(job) \(end.stateDescription)")
        }
    }
}
