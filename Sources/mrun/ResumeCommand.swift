import ArgumentParser
import Foundation
import MrunKit

struct ResumeCommand: MrunCommand {
    static let configuration = CommandConfiguration(
        commandName: "resume",
        abstract: "Launch the points of an interrupted sweep that have not been launched yet.",
        discussion: """
            Points keep their names (<base>-<sweep id>-<index>). A point is launched again only when \
            it has no launch, or every launch of it was cancelled or never got a job; pending, \
            running and ended points never are. --env values are not recorded: give them again.
            """)
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Sweep id or name (or one of its launches).") var sweep: String
    @Option(name: .customLong("env"), help: "NAME=VALUE for the sweep's --env variables (repeatable).")
    var environment: [String] = []
    @Flag(name: [.customLong("dry-run"), .customLong("dry_run")], help: "Print the plan as JSON; launch nothing.")
    var dryRun = false

    func run(_ environment: MrunEnvironment) async throws {
        let resolver = global.resolver(environment)
        let history = try resolver.openHistory()
        var record = try history.sweep(sweep)
        if record == nil, case .launch(let launch) = try? resolver.resolve(sweep), let id = launch.sweepId {
            record = try history.sweep(id)
        }
        guard let record else { throw RelaunchError.sweepNotFound(sweep) }
        let relauncher = Relauncher(history: history, environment: environment)
        let missing = try relauncher.missing(record)
        if !missing.isEmpty && !dryRun {
            Terminal.note(
                "mrun: resuming sweep \(record.id): \(missing.count) of \(record.points.count) points"
                    + " (\(missing.map(String.init).joined(separator: ", ")))")
        }
        let (status, indexes, plan) = try await relauncher.resume(record, environment: self.environment, dryRun: dryRun)
        if let plan { print(plan, terminator: "") }
        if indexes.isEmpty {
            print("Sweep \(record.id): all \(record.points.count) points have been launched; nothing to resume")
        }
        if status != 0 { throw ExitCode(status) }
    }
}
