import ArgumentParser
import MrunKit

struct StatusCommand: MrunCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Show a launch's state, exit code and output, as its backend reports it.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Launch id or prefix, name or pattern; on a Slurm context also a job id (ID_INDEX: a point).")
    var job: String

    func run(_ environment: MrunEnvironment) async throws {
        let resolver = global.resolver(environment)
        switch try resolver.resolve(job) {
        case .job(let id, let control):
            print(try await control.status(jobID: id).details, terminator: "")
        case .launch(let launch):
            let service = try resolver.service()
            let status = try await service.control(for: launch).status(launch)
            service.record(status, of: launch)
            print(LaunchPrinter.status(launch, status), terminator: "")
            if status.state.isFinal && !launch.state.isFinal {
                var ended = launch
                ended.state = status.state
                ended.exitCode = status.exitCode
                await service.saveLogs(of: [ended])
            }
        }
    }
}
