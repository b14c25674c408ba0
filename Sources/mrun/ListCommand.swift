import ArgumentParser
import MrunKit

struct ListCommand: MrunCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List launches from the history, newest first, their states refreshed from the backends.",
        // Every option spelled out would make a usage line of about 120 columns, which is not wrapped.
        usage: "mrun list [<options>]",
        discussion: """
            Launches that have not ended are asked about first, one call per context (on Slurm one \
            squeue/sacct for all its jobs), several contexts at once. --context lists one context's \
            launches; with --all, a Slurm context's jobs as Slurm lists them (yours, including jobs \
            not launched from here).
            """)
    @OptionGroup var global: GlobalOptions
    @Option(help: "Only the points of this sweep (its id or name).") var sweep: String?
    @Option(help: "Only launches in this state: submitted, running, completed, failed, cancelled, unknown.")
    var state: JobState?
    @Option(help: "At most N launches (the newest).") var limit: Int?
    @Option(help: "text or json.") var output: OutputFormat = .text
    @Flag(
        help:
            "Slurm: every job of yours on the --context cluster, as Slurm lists it; Kubernetes: mrun's Jobs in the namespace."
    )
    var all = false
    @Flag(help: "Also the launches 'mrun rm' removed.") var removed = false

    func run(_ environment: MrunEnvironment) async throws {
        if all {
            print(try await global.resolver(environment).backendJobs().table, terminator: "")
            return
        }
        let resolver = global.resolver(environment)
        let service = try resolver.service()
        var sweepID: String?
        var launches: [LaunchRecord]
        var attempts: [String: Int]?
        if let sweep {
            // A sweep's points, each its latest launch, with how many launches it has had.
            guard let found = try resolver.sweepLaunches(sweep) else { throw RelaunchError.sweepNotFound(sweep) }
            sweepID = found.sweep
            let all = try service.history.list(context: global.context, sweep: found.sweep)
            let counts = Dictionary(grouping: all, by: { $0.sweepIndex ?? -1 }).mapValues(\.count)
            let inContext = Set(all.map(\.id))
            launches = found.launches.filter { inContext.contains($0.id) }
            attempts = Dictionary(
                uniqueKeysWithValues: launches.map { ($0.id, $0.sweepIndex.map { counts[$0] ?? 1 } ?? 1) })
        } else {
            launches = try service.history.list(context: global.context, sweep: nil)
        }
        let (refreshed, warnings) = await service.refresh(launches)
        for warning in warnings { Terminal.warning(warning) }
        let hidden = removed ? [] : try service.history.removedIDs()
        launches = refreshed.filter { (state == nil || $0.state == state) && !hidden.contains($0.id) }
        if sweepID != nil { launches.sort { ($0.sweepIndex ?? -1, $0.created) < ($1.sweepIndex ?? -1, $1.created) } }
        if let limit { launches = Array(launches.prefix(max(limit, 0))) }
        switch output {
        case .text: print(LaunchPrinter.table(launches, attempts: attempts), terminator: "")
        case .json: print(try LaunchPrinter.json(launches), terminator: "")
        }
    }
}

extension JobState: ExpressibleByArgument {}
