import ArgumentParser
import Foundation
import MrunKit

struct RerunCommand: MrunCommand {
    static let configuration = CommandConfiguration(
        commandName: "rerun",
        abstract: "Launch a recorded launch again with the same script, arguments, parameters, tags and context.",
        discussion: """
            The code is taken from the directory the launch ran in, as it is now; mrun warns when it \
            differs from the recorded code and names the files. --env values are not recorded: give \
            them again. A sweep's point is launched as a one-point sweep with the point's parameters.
            """)
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Launch id or prefix, name or pattern; on a Slurm context also a job id.") var launch: String
    @Option(name: .customLong("env"), help: "NAME=VALUE for the launch's --env variables (repeatable).")
    var environment: [String] = []
    @Flag(name: [.customLong("dry-run"), .customLong("dry_run")], help: "Print the plan as JSON; launch nothing.")
    var dryRun = false

    func run(_ environment: MrunEnvironment) async throws {
        let resolver = global.resolver(environment)
        guard case .launch(let recorded) = try resolver.resolve(launch) else {
            throw HistoryError.notFound(reference: launch)
        }
        let relauncher = Relauncher(history: try resolver.openHistory(), environment: environment)
        // Missing --env values are an error before anything is said about launching.
        _ = try recorded.inputs.map { try $0.request(environment: self.environment) }
        if !dryRun { Terminal.note("mrun: launching \(recorded.id) (\(recorded.experimentName)) again") }
        let (status, plan) = try await relauncher.rerun(recorded, environment: self.environment, dryRun: dryRun)
        if let plan { print(plan, terminator: "") }
        if status != 0 { throw ExitCode(status) }
    }
}
