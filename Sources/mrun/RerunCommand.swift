import ArgumentParser
import Foundation
import MrunKit

struct RerunCommand: MrunCommand {
    static let configuration = CommandConfiguration(
        commandName: "rerun",
        abstract: "Launch a recorded launch again with the same script, arguments, parameters, tags and context.",
        // Every option spelled out would make a usage line of about 110 columns, which is not wrapped.
        usage:
            "mrun rerun [<options>] <launch>\nmrun rerun [<options>] (--failed | --state <state,...>) <sweep>",
        discussion: """
            The code is taken from the directory the launch ran in, as it is now; mrun warns when it \
            differs from the recorded code and names the files. --env values are not recorded: give \
            them again. A sweep's point is launched as a one-point sweep with the point's parameters.
            """)
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Launch id or prefix, name or pattern; on a Slurm context also a job id; with --failed a sweep.")
    var launch: String
    @Flag(
        help:
            "Launch again the points of the sweep LAUNCH whose latest launch failed (or was preempted or lost its node)."
    ) var failed = false
    @Option(
        help: ArgumentHelp(
            "Launch again the points of the sweep LAUNCH whose latest launch is in one of these states.",
            valueName: "state,..."))
    var state: String?
    @Option(name: .customLong("env"), help: "NAME=VALUE for the launch's --env variables (repeatable).")
    var environment: [String] = []
    @Flag(name: [.customLong("dry-run"), .customLong("dry_run")], help: "Print the plan as JSON; launch nothing.")
    var dryRun = false

    /// The states `--failed` and `--state` name; nil for the rerun of one launch.
    func states() throws -> Set<JobState>? {
        guard failed || state != nil else { return nil }
        var states = failed ? Set(JobState.allCases.filter(\.isFailure)) : []
        for word in (state ?? "").split(separator: ",") {
            let name = word.trimmingCharacters(in: .whitespaces).lowercased().replacingOccurrences(of: "-", with: "_")
            // LOST is how status words an unknown launch whose process is gone (ssh).
            guard let parsed = name == "lost" ? JobState.unknown : JobState(rawValue: name) else {
                let known = (JobState.allCases.map(\.rawValue) + ["lost"]).joined(separator: ", ")
                throw ValidationError("--state: \(quoted: name) is not a state; use some of \(known)")
            }
            states.insert(parsed)
        }
        if states.isEmpty { throw ValidationError("--state: name at least one state, e.g. --state failed,cancelled") }
        return states
    }

    func run(_ environment: MrunEnvironment) async throws {
        let resolver = global.resolver(environment)
        if let states = try states() {
            return try await rerunPoints(states, resolver: resolver, environment: environment)
        }
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

    func rerunPoints(_ states: Set<JobState>, resolver: JobResolver, environment: MrunEnvironment) async throws {
        let history = try resolver.openHistory()
        guard let sweep = try history.sweep(launch) else { throw RelaunchError.sweepNotFound(launch) }
        let relauncher = Relauncher(history: history, environment: environment)
        let (status, indexes, plan) = try await relauncher.rerun(
            sweep, states: states, environment: self.environment, dryRun: dryRun)
        if let plan { print(plan, terminator: "") }
        let names =
            state == nil
            ? "failed" : states.map { $0 == .unknown ? "lost" : $0.rawValue }.sorted().joined(separator: " or ")
        if indexes.isEmpty {
            print("Sweep \(sweep.id): no point's latest launch is \(names); nothing to launch again")
        } else if !dryRun {
            Terminal.note(
                "mrun: launched again \(indexes.count) point\(indexes.count == 1 ? "" : "s") of sweep \(sweep.id) (\(names)):"
                    + " \(indexes.map(String.init).joined(separator: ", "))")
        }
        if status != 0 { throw ExitCode(status) }
    }
}
