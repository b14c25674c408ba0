import Foundation
import MrunSupport
import MrunConfig
import MrunTemplates
import MrunPlan
import MrunHistory
import KubernetesAPI
import MrunBackends

/// Launches plans and sweeps through their backends, recording every launch in the history.
///
/// The history is opened before anything is launched: a corrupt, foreign or newer database is an
/// error then, and nothing runs. Any later history failure (a locked database, a full disk) is a
/// warning, and the experiment goes on unrecorded.
public struct Launcher: Sendable {
    public var environment: MrunEnvironment
    var host: HostEnvironment { environment.host }
    var store: ConfigStore { environment.store }

    public init(environment: MrunEnvironment) {
        self.environment = environment
    }

    /// Starts readying what a launch on `context` will use first (a connection to its cluster),
    /// in the background while the launch is planned; it changes nothing anywhere, and what fails
    /// in it is met, and reported, by the launch itself.
    public func warmUp(_ context: Context) {
        guard let warmUp = Backends.entries[context.type]?.warmUp else { return }
        let environment = self.environment
        Task.detached { await warmUp(environment, context) }
    }

    /// Opens `$MRUN_HOME/history.sqlite` for recording; nil (after a warning) when it cannot be used
    /// for a reason that is not the file's content.
    public func openHistory() throws -> HistoryStore? {
        do {
            return try HistoryStore(home: store.home)
        } catch let error as HistoryError {
            switch error {
            case .corrupt, .foreign, .newerSchema: throw error
            default:
                environment.warn("\(error); this launch is not recorded")
                return nil
            }
        }
    }

    /// A recorder for launches of the code at `root`, nil when the history cannot be used.
    public func recorder(root: String, inputs: LaunchInputs, history: HistoryStore? = nil) async throws
        -> LaunchRecorder?
    {
        guard let history = try history ?? openHistory() else { return nil }
        return recorder(history, inputs: inputs, git: await GitState.detect(in: root, runner: environment.runner))
    }

    private func recorder(_ history: HistoryStore, inputs: LaunchInputs, git: GitState?) -> LaunchRecorder {
        LaunchRecorder(
            store: history, user: LaunchRecord.currentUser(host: host), git: git, inputs: inputs,
            warn: environment.warn)
    }

    /// Runs or submits `plan`; returns the exit status mrun should end with.
    public func launch(_ plan: ExperimentPlan, inputs: LaunchInputs, history: HistoryStore? = nil) async throws
        -> Int32
    {
        let recorder = try await self.recorder(root: plan.snapshot.root, inputs: inputs, history: history)
        let backend = try Backends.backend(for: plan.context.type, environment: environment, recorder: recorder)
        let status = try await backend.execute(plan)
        await notifyLocalEnd(context: plan.context, history: recorder?.store) {
            try $0.list().filter { $0.experimentName == plan.experiment.name }
        }
        return status
    }

    /// Runs or submits the points of `sweep`, recording the sweep itself first unless `resumed`
    /// (it is in the history already). Holds the sweep's lock throughout, so that a `mrun resume`
    /// of it cannot launch the same points at the same time.
    public func launch(
        _ sweep: SweepPlan, inputs: LaunchInputs, history: HistoryStore? = nil, resumed: Bool = false
    ) async throws -> Int32 {
        let recorder = try await self.recorder(root: sweep.base.snapshot.root, inputs: inputs, history: history)
        PhaseProfile.mark("history opened, git state read")
        let backend = try Backends.backend(for: sweep.base.context.type, environment: environment, recorder: recorder)
        if resumed { return try await backend.execute(sweep) }
        guard let lock = try FileLock.attempt(Self.sweepLock(sweep.id, store: store)) else {
            throw RelaunchError.sweepBusy(sweep.id)
        }
        defer { withExtendedLifetime(lock) {} }
        await recorder?.record(sweep)
        PhaseProfile.mark("sweep recorded")
        let status = try await backend.execute(sweep)
        PhaseProfile.mark("sweep submitted")
        await notifyLocalEnd(context: sweep.base.context, history: recorder?.store) { try $0.launches(sweep: sweep.id) }
        return status
    }

    /// Runs or submits a new sweep whose points are planned meanwhile: the history is opened and
    /// the backend sets up what the points share while they are planned on every core; the sweep
    /// is recorded once they all are (a point that cannot be planned records and launches nothing).
    public func launch(_ planning: SweepPlanning, inputs: LaunchInputs) async throws -> Int32 {
        let planned = Task { try await planning.plans() }
        // git's two processes run beside the setup too; the records made after the points get its answer.
        let root = planning.base.snapshot.root
        let runner = environment.runner
        let git = Task { await GitState.detect(in: root, runner: runner) }
        let recorder = try openHistory().map { self.recorder($0, inputs: inputs, git: nil) }
        PhaseProfile.mark("history opened")
        let context = planning.base.context
        let backend = try Backends.backend(for: context.type, environment: environment, recorder: recorder)
        guard let lock = try FileLock.attempt(Self.sweepLock(planning.outline.id, store: store)) else {
            throw RelaunchError.sweepBusy(planning.outline.id)
        }
        defer { withExtendedLifetime(lock) {} }
        let status = try await backend.execute(planning) {
            let sweep = try await planned.value
            PhaseProfile.mark("planned \(sweep.plans.count) points")
            recorder?.learned(git: await git.value)
            await recorder?.record(sweep)
            PhaseProfile.mark("sweep recorded")
            return sweep
        }
        PhaseProfile.mark("sweep submitted")
        await notifyLocalEnd(context: context, history: recorder?.store) { try $0.launches(sweep: planning.outline.id) }
        return status
    }

    /// Held by the mrun launching or resuming a sweep.
    public static func sweepLock(_ id: String, store: ConfigStore) -> URL {
        store.home.appendingPathComponent("locks").appendingPathComponent("sweep-\(id).lock")
    }

    /// A local launch ends here, in this process: its context's notify targets are told now.
    /// Cluster launches are told by their jobs, or by `mrun wait --notify`.
    func notifyLocalEnd(
        context: Context, history: HistoryStore?, launches: (HistoryStore) throws -> [LaunchRecord]
    ) async {
        guard !context.notify.isEmpty else { return }
        guard Backends.entries[context.type]?.planner.endNotifier == .thisProcess else {
            // The job tells its webhooks itself, unless its nodes cannot reach them.
            guard context.notifyFrom == "here" else { return }
            let recorded = history.flatMap { try? launches($0) } ?? []
            let id = recorded.first.map { $0.sweepId ?? $0.id } ?? "ID"
            await environment.sink.standardError(
                Array(
                    ("mrun: notifications of this context are sent from here: 'mrun wait --notify \(id)' tells its"
                        + " targets when it ends\n")
                        .utf8))
            return
        }
        guard let history, let ended = try? launches(history) else { return }
        for warning in await JobService(history: history, environment: environment).notifyEnded(ended, context: context)
        {
            environment.warn(warning)
        }
    }
}
