import ArgumentParser
import MrunKit

struct LogsCommand: MrunCommand {
    static let configuration = CommandConfiguration(
        commandName: "logs", abstract: "Print a launch's output; with -f, follow it until the launch ends.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Launch id or prefix, name or pattern; on a Slurm context also a job id (ID_INDEX: a point).")
    var job: String
    @Flag(name: [.short, .long], help: "Keep printing new output until the launch ends.") var follow = false
    @Option(help: "Only this node of a gang on Kubernetes (0 is rank 0's); without it, every node's lines, prefixed.")
    var node: Int?

    func validate() throws {
        if let node, node < 0 { throw ValidationError("--node must be 0 or more, got \(node)") }
    }

    func run(_ environment: MrunEnvironment) async throws {
        let resolver = global.resolver(environment)
        let summary: String
        let pending: Bool
        switch try resolver.resolve(job) {
        case .job(let id, let control):
            if node != nil { throw ValidationError("--node: \(id) is a Slurm job, whose log has every rank's lines") }
            let end = try await control.logs(jobID: id, follow: follow, sink: environment.sink)
            (summary, pending) = (end.summary, end.state == .submitted)
        case .launch(let launch):
            let service = try resolver.service()
            let control = try service.control(for: launch)
            let sink = environment.sink
            let end: JobStatus
            if let node {
                end = try await control.logs(launch, node: node, follow: follow, sink: sink)
            } else {
                end = try await control.logs(launch, follow: follow, sink: sink)
            }
            service.record(end, of: launch)
            (summary, pending) = (end.summary, end.state == .submitted)
        }
        if pending && !follow {
            Terminal.note("mrun: job \(job) is PENDING: no output yet; follow it with 'mrun logs -f \(job)'")
        } else if follow {
            Terminal.note("mrun: job \(job) \(summary)")
        }
    }
}
