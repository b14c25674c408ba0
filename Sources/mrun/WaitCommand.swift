import ArgumentParser
import Foundation
import MrunKit

struct WaitCommand: MrunCommand {
    static let configuration = CommandConfiguration(
        commandName: "wait",
        abstract: "Wait until launches have ended; exit with the launch's status, or the first failure's.",
        discussion: """
            Prints a line as each launch ends. The exit status is 0 when all completed, else that of \
            the first one (in the order given) that did not: its exit code, or 1 without one.
            """)
    @OptionGroup var global: GlobalOptions
    @Argument(
        help: "Launch ids or prefixes, names, patterns, sweep ids; on a Slurm context also job ids (ID_INDEX).")
    var jobs: [String]

    func run(_ environment: MrunEnvironment) async throws {
        let resolver = global.resolver(environment)
        var launches: [LaunchRecord] = []
        var untracked: [(id: String, control: any JobControl)] = []
        for reference in jobs {
            for target in try JobTargets.resolve(reference, resolver: resolver, sweep: false) {
                switch target {
                case .launch(let launch):
                    if !launches.contains(where: { $0.id == launch.id }) { launches.append(launch) }
                case .job(let id, let control): untracked.append((id, control))
                }
            }
        }
        var statuses: [Int32] = []
        if !launches.isEmpty {
            let ended = try await resolver.service().wait(
                for: launches, warn: { Terminal.warning($0) },
                ended: { print("\($0.id) (\($0.experimentName)): \(LaunchPrinter.summary($0))") })
            statuses += ended.map { LaunchPrinter.waitStatus($0) }
        }
        for (id, control) in untracked {
            let end = try await control.wait(jobID: id)
            print("Job \(id) (\(end.name)): \(end.summary)")
            statuses.append(end.waitStatus)
        }
        if let failure = statuses.first(where: { $0 != 0 }) { throw ExitCode(failure) }
    }
}
