import ArgumentParser
import Foundation
import MrunKit

struct RemoveCommand: MrunCommand {
    static let configuration = CommandConfiguration(
        commandName: "rm",
        abstract: "Remove what launches left on their backends; the history keeps them, marked removed.",
        usage: "mrun rm [<options>] <launch> ...\nmrun rm [<options>] --sweep <sweep> [--finished]",
        discussion: """
            Removes a Kubernetes launch's Job and its pods, a Slurm launch's job directory, a local \
            launch's run directory, after saving its output (mrun logs still shows it). Namespaces, \
            claims and Secrets are never removed. A launch that has not ended needs --force, which \
            cancels it first. mrun list shows removed launches with --removed.
            """)
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Launch ids or prefixes, names or patterns.") var launches: [String] = []
    @Option(help: "Every point of this sweep (its id or name).") var sweep: String?
    @Flag(help: "With --sweep: only the points that have ended; the others are left as they are.")
    var finished = false
    @Flag(help: "Cancel launches that have not ended, then remove them.") var force = false

    func validate() throws {
        if launches.isEmpty == (sweep == nil) {
            throw ValidationError("Name launches to remove, or a sweep with --sweep")
        }
        if finished && sweep == nil { throw ValidationError("--finished goes with --sweep S") }
    }

    func run(_ environment: MrunEnvironment) async throws {
        let resolver = global.resolver(environment)
        var chosen: [LaunchRecord] = []
        if let sweep {
            guard let found = try resolver.sweepLaunches(sweep) else { throw RelaunchError.sweepNotFound(sweep) }
            chosen = found.launches
        } else {
            for reference in launches {
                guard case .launch(let launch) = try resolver.resolve(reference) else {
                    throw ValidationError("\(reference) is not a launch of the history; mrun rm takes launches")
                }
                if !chosen.contains(where: { $0.id == launch.id }) { chosen.append(launch) }
            }
        }
        let service = try resolver.service()
        if finished {
            chosen = await service.refresh(chosen).launches.filter(\.state.isFinal)
            if chosen.isEmpty { return print("Sweep \(sweep ?? ""): no point has ended; nothing removed") }
        }
        var failed = false
        for (launch, result) in await service.remove(chosen, force: force) {
            switch result {
            case .success(let removed):
                let what = removed.isEmpty ? "nothing was left on its backend" : removed.joined(separator: ", ")
                print("Removed launch \(launch.id) (\(launch.experimentName)): \(what)")
            case .failure(let error):
                failed = true
                Terminal.error("\(error)")
            }
        }
        if failed { throw ExitCode(1) }
    }
}
