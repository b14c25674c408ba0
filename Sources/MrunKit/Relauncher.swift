import Foundation
import MrunSupport
import MrunConfig
import MrunTemplates
import MrunPlan
import MrunHistory
import KubernetesAPI
import MrunBackends

/// Launches again what the history recorded: one launch (`mrun rerun`), or the points of a sweep
/// that an interruption left out (`mrun resume`).
///
/// The inputs are the recorded ones: the script, the arguments, a sweep point's parameters, the
/// tags, the directory the code was taken from, and the context as recorded, its redacted `env`
/// values filled in from the context's file. `--env` values were never recorded and are given
/// again. The code is whatever the directory holds now; a warning names the files that changed.
public struct Relauncher: Sendable {
    public var history: HistoryStore
    /// Its `warn` receives warnings (changed code, a changed context), one line each.
    public var environment: MrunEnvironment
    var host: HostEnvironment { environment.host }
    var store: ConfigStore { environment.store }
    var warn: @Sendable (String) -> Void { environment.warn }

    public init(history: HistoryStore, environment: MrunEnvironment) {
        self.history = history
        self.environment = environment
    }

    // MARK: Rerun

    /// Launches `launch` again; `environment` gives its `--env` values. A sweep's point becomes a
    /// one-point sweep of its own, with the point's parameters.
    public func rerun(_ launch: LaunchRecord, environment: [String], dryRun: Bool = false) async throws
        -> (status: Int32, plan: String?)
    {
        guard var inputs = launch.inputs else { throw RelaunchError.noInputs(launch: launch.id) }
        let request = try inputs.request(environment: environment)
        let planning = try inputs.host(host)
        let context = try restored(launch.context)
        let builder = PlanBuilder(host: planning, store: store)
        inputs.rerunOf = launch.id
        let launcher = Launcher(environment: self.environment.with(host: planning))
        if launch.sweepId != nil, let point = inputs.point {
            let sweep = try builder.sweep(request, point: point, context: context)
            if dryRun { return (0, try SweepPrinter.json(sweep)) }
            checkCode(sweep.base.snapshot, against: launch)
            return (try await launcher.launch(sweep, inputs: inputs, history: history), nil)
        }
        let plan = try builder.plan(request, context: context)
        if dryRun { return (0, try PlanPrinter.json(plan)) }
        checkCode(plan.snapshot, against: launch)
        let parameters = LaunchRecord.parameters(fromJSON: plan.experiment.parameters)
        if parameters != launch.parameters {
            warn(
                "the parameters differ from launch \(launch.id)'s (its --config file changed):"
                    + " \(LaunchDiff.changes(launch.parameters, parameters).map(\.key).joined(separator: ", "))")
        }
        return (try await launcher.launch(plan, inputs: inputs, history: history), nil)
    }

    // MARK: Resume

    /// The point indexes of `sweep` still to launch: those without a launch, or whose every
    /// launch was cancelled, never got a job (its submission failed) or was lost (`unknown` on a
    /// backend where that means gone, ``JobControls/unknownIsLost(for:)``). A point that is
    /// pending, running or has ended on its own is never launched again.
    public func missing(_ sweep: SweepRecord) throws -> [Int] {
        let launched = Set(
            try history.launches(sweep: sweep.id).filter { launch in
                launch.state != .cancelled && !(launch.state == .failed && launch.jobId == nil)
                    && !(launch.state == .unknown && JobControls.unknownIsLost(for: launch.backend))
            }.compactMap(\.sweepIndex))
        return sweep.points.map(\.index).filter { !launched.contains($0) }
    }

    /// Launches the points of `sweep` that ``missing(_:)`` names, under their own names, while
    /// holding the sweep's lock (so two resumes, or a resume and the launch itself, never launch
    /// a point twice). Returns the exit status and the indexes launched (empty: nothing to do).
    public func resume(_ sweep: SweepRecord, environment: [String], dryRun: Bool = false) async throws
        -> (status: Int32, indexes: [Int], plan: String?)
    {
        guard let lock = try FileLock.attempt(Launcher.sweepLock(sweep.id, store: store)) else {
            throw RelaunchError.sweepBusy(sweep.id)
        }
        defer { withExtendedLifetime(lock) {} }
        // The backends are asked first: a point lost since (an ssh host that rebooted) is missing
        // now, even when no list or status has seen it yet.
        let open = try history.launches(sweep: sweep.id).filter { !$0.state.isFinal && $0.jobId != nil }
        if !open.isEmpty {
            let (_, warnings) = await JobService(history: history, environment: self.environment).refresh(open)
            for warning in warnings { warn(warning) }
        }
        let indexes = try missing(sweep)
        if indexes.isEmpty { return (0, [], nil) }
        return try await relaunch(sweep, indexes: indexes, environment: environment, dryRun: dryRun)
    }

    // MARK: Rerun of points

    /// The latest launch of each point of `sweep` whose state, as its backend reports it now, is one
    /// of `states`; in point order.
    public func points(of sweep: SweepRecord, in states: Set<JobState>) async throws -> [LaunchRecord] {
        var latest: [Int: LaunchRecord] = [:]
        for launch in try history.launches(sweep: sweep.id) {
            if let index = launch.sweepIndex { latest[index] = launch }
        }
        let (current, warnings) = await JobService(history: history, environment: environment).refresh(
            latest.keys.sorted().compactMap { latest[$0] })
        for warning in warnings { warn(warning) }
        return current.filter { states.contains($0.state) }
    }

    /// Launches again, as new launches of the same sweep under the same names, the points whose
    /// latest launch is in one of `states` (`mrun rerun --failed`), while holding the sweep's lock.
    /// Their output is saved first and what their old jobs left in the way of the names is cleared
    /// (``JobControl/clearForRelaunch(_:)``). Returns the exit status and the indexes launched.
    public func rerun(_ sweep: SweepRecord, states: Set<JobState>, environment: [String], dryRun: Bool = false)
        async throws -> (status: Int32, indexes: [Int], plan: String?)
    {
        guard let lock = try FileLock.attempt(Launcher.sweepLock(sweep.id, store: store)) else {
            throw RelaunchError.sweepBusy(sweep.id)
        }
        defer { withExtendedLifetime(lock) {} }
        let chosen = try await points(of: sweep, in: states)
        if chosen.isEmpty { return (0, [], nil) }
        // Missing --env values are an error before anything is cleared.
        _ = try sweep.inputs.request(environment: environment)
        if !dryRun {
            let service = JobService(history: history, environment: self.environment)
            await service.saveLogs(of: chosen)
            for (_, group) in Dictionary(grouping: chosen, by: \.contextName).sorted(by: { $0.key < $1.key }) {
                try await service.control(for: group[0]).clearForRelaunch(group)
            }
        }
        return try await relaunch(
            sweep, indexes: chosen.compactMap(\.sweepIndex), environment: environment, dryRun: dryRun)
    }

    /// Plans the points at `indexes` of `sweep` again, with its recorded inputs, and launches them.
    func relaunch(_ sweep: SweepRecord, indexes: [Int], environment: [String], dryRun: Bool) async throws
        -> (status: Int32, indexes: [Int], plan: String?)
    {
        let request = try sweep.inputs.request(environment: environment)
        let planning = try sweep.inputs.host(host)
        let context = try restored(sweep.context)
        var plan = try PlanBuilder(host: planning, store: store).sweep(
            request, resuming: sweep, indexes: Set(indexes), context: context)
        plan.plans = plan.plans.map(Self.freshRunDirectory)
        if dryRun { return (0, indexes, try SweepPrinter.json(plan)) }
        if let earlier = try history.launches(sweep: sweep.id).last {
            checkCode(plan.base.snapshot, against: earlier)
        }
        let status = try await Launcher(environment: self.environment.with(host: planning)).launch(
            plan, inputs: sweep.inputs, history: history, resumed: true)
        return (status, indexes, nil)
    }

    // MARK: Helpers

    /// A local point launched again keeps its name, but gets a run directory of its own
    /// (`NAME.2`, `NAME.3`…) beside the one its earlier launch left, which the history still names.
    static func freshRunDirectory(_ plan: ExperimentPlan) -> ExperimentPlan {
        guard let local = plan.local, FileManager.default.fileExists(atPath: local.runDirectory) else { return plan }
        var attempt = 2
        while FileManager.default.fileExists(atPath: "\(local.runDirectory).\(attempt)") { attempt += 1 }
        var plan = plan
        let directory = URL(fileURLWithPath: "\(local.runDirectory).\(attempt)")
        plan.local = LocalTarget(
            runDirectory: directory.path, logFile: directory.appendingPathComponent("output.log").path)
        return plan
    }

    /// The recorded context with its `env` values, which the history keeps redacted, from the
    /// context's file; a warning when the file's other keys changed since.
    func restored(_ recorded: Context) throws -> Context {
        let current = try? store.loadContext(named: recorded.name)
        var context = recorded
        var missing: [String] = []
        for name in recorded.env.keys.sorted() {
            if let value = current?.env[name] { context.env[name] = value } else { missing.append(name) }
        }
        if !missing.isEmpty { throw RelaunchError.contextVariablesMissing(context: recorded.name, names: missing) }
        // The recorded webhook URLs are redacted: the context's file has them.
        context.notify = current?.notify ?? []
        if let current {
            let changed = LaunchDiff.changes(LaunchDiff.flatten(recorded), LaunchDiff.flatten(current.redacted))
            if !changed.isEmpty {
                warn(
                    "context \(quoted: recorded.name) changed since (\(changed.map(\.key).joined(separator: ", ")));"
                        + " launching with the recorded settings")
            }
        }
        return context
    }

    /// Warns when the code differs from the launch's, naming the files.
    func checkCode(_ snapshot: CodeSnapshot, against launch: LaunchRecord) {
        guard snapshot.contentHash != launch.codeHash else { return }
        var now = launch
        now.files = Dictionary(snapshot.files.map { ($0.path, $0.sha256) }, uniquingKeysWith: { $1 })
        let diff = LaunchDiff(launch, now)
        let files =
            diff.filesChanged.map { "~ \($0)" } + diff.filesAdded.map { "+ \($0)" }
            + diff.filesRemoved.map { "- \($0)" }
        warn(
            "the code changed since launch \(launch.id) (its content hash differs):"
                + " \(files.isEmpty ? "file modes" : files.joined(separator: ", "))")
    }
}
