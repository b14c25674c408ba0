import ArgumentParser
import MrunKit

struct ListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List your experiments' jobs (Kubernetes: in the project's namespace).")
    @OptionGroup var global: GlobalOptions
    @Flag(help: "Include jobs whose names mrun did not give.") var all = false

    func run() async throws {
        if let context = try global.kubernetesContext() {
            let jobs = try await KubernetesJobs.using(context: context, host: global.host) {
                try await $0.list(all: all)
            }
            print(KubernetesJobStatus.table(jobs), terminator: "")
            return
        }
        print(SlurmJob.table(try await global.slurmJobs().list(all: all)), terminator: "")
    }
}
