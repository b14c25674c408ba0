import ArgumentParser
import Foundation
import MrunKit

struct WaitCommand: MrunCommand {
    static let configuration = CommandConfiguration(
        commandName: "wait",
        abstract: "Wait until launches have ended; exit with the launch's status, or the first failure's.",
        // Every option spelled out would make a usage line of about 100 columns, which is not wrapped.
        usage: "mrun wait [<options>] <jobs> ...\nmrun wait [<options>] --notify [--notify-each] <jobs> ...",
        discussion: """
            Prints a line as each launch ends. The exit status is 0 when all completed, else that of \
            the first one (in the order given) that did not: its exit code, or 1 without one.
            """)
    @OptionGroup var global: GlobalOptions
    @Argument(
        help: "Launch ids or prefixes, names, patterns, sweep ids; on a Slurm context also job ids (ID_INDEX).")
    var jobs: [String]
    @Flag(help: "Then tell the launches' contexts' notify targets, from here (one message per sweep).")
    var notify = false
    @Flag(help: "With --notify: one message per point of a sweep.") var notifyEach = false
    @Option(
        help: ArgumentHelp("With --notify: one more target, a webhook URL or 'command: ARGV'.", valueName: "target"))
    var notifyTo: [String] = []

    func validate() throws {
        if (notifyEach || !notifyTo.isEmpty) && !notify {
            throw ValidationError("--notify-each and --notify-to go with --notify")
        }
        for target in notifyTo {
            if case .failure(let problem) = NotifyTargets.parse(target) {
                throw ValidationError("--notify-to: \(problem.message)")
            }
        }
    }

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
            if notify {
                let extra = notifyTo.compactMap { try? NotifyTargets.parse($0).get() }
                let service = try resolver.service()
                for warning in await service.notifyEnded(ended, each: notifyEach, extra: extra) {
                    Terminal.warning(warning)
                }
            }
        }
        for (id, control) in untracked {
            let end = try await control.wait(jobID: id)
            print("Job \(id) (\(end.name)): \(end.summary)")
            statuses.append(end.waitStatus)
        }
        if let failure = statuses.first(where: { $0 != 0 }) { throw ExitCode(failure) }
    }
}
