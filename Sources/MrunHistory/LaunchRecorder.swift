import Foundation
import Synchronization
import MrunSupport
import MrunConfig
import MrunTemplates
import MrunPlan

/// Writes launches into the history as the backends make them: a record before a local run starts
/// or a Slurm job is submitted, its process or job id once known, its end on this machine.
///
/// A history failure never stops or hides an experiment: it is one warning on stderr, after which
/// this mrun records no more (a database locked by another process costs one busy timeout, not
/// one per point of a sweep). A corrupt or newer database is refused before anything is launched,
/// when the store is opened (see ``Launcher``).
public final class LaunchRecorder: Sendable {
    public let store: HistoryStore
    public let user: String
    public let git: GitState?
    public let inputs: LaunchInputs
    private let warn: @Sendable (String) -> Void
    private let failed = Mutex(false)

    public init(
        store: HistoryStore, user: String, git: GitState?, inputs: LaunchInputs,
        warn: @escaping @Sendable (String) -> Void
    ) {
        self.store = store
        self.user = user
        self.git = git
        self.inputs = inputs
        self.warn = warn
    }

    /// Whether recording has failed once (and stopped).
    public var hasFailed: Bool { failed.withLock { $0 } }

    /// The record of launching `plan`, a sweep's point when `point` is given.
    public func launch(_ plan: ExperimentPlan, sweepId: String? = nil, point: SweepPoint? = nil) -> LaunchRecord {
        var inputs = self.inputs
        if let point { inputs.point = point.parameters }
        return LaunchRecord(
            plan: plan, user: user, git: git, sweepId: sweepId, sweepIndex: point?.index, inputs: inputs)
    }

    /// Records a sweep and its expanded points before any is launched.
    @discardableResult
    public func record(_ sweep: SweepPlan) -> Bool {
        attempt("cannot record sweep \(sweep.id)") {
            try store.record(SweepRecord(sweep: sweep, user: user, inputs: inputs))
        }
    }

    /// Records launches about to be made, all or none; false when they were not recorded.
    @discardableResult
    public func record(_ launches: [LaunchRecord]) -> Bool {
        guard !launches.isEmpty else { return true }
        let what = launches.count == 1 ? "launch \(launches[0].experimentName)" : "\(launches.count) launches"
        return attempt("cannot record \(what)") { try store.record(launches) }
    }

    /// The backend's job ids (Slurm job, local process) for recorded launches.
    public func started(_ jobs: [(id: String, jobId: String)], state: JobState) {
        guard !jobs.isEmpty else { return }
        attempt("cannot record the job id of launch \(jobs[0].id)") { try store.update(jobs: jobs, state: state) }
    }

    /// How a launch ended (or failed to launch).
    public func finished(_ id: String, state: JobState, exitCode: Int32?) {
        attempt("cannot record the end of launch \(id)") { try store.update(id: id, state: state, exitCode: exitCode) }
    }

    @discardableResult
    private func attempt(_ what: String, _ body: () throws -> Void) -> Bool {
        if hasFailed { return false }
        do {
            try body()
            return true
        } catch {
            failed.withLock { $0 = true }
            warn("\(what) in the history (\(error)); the experiment is not affected, but mrun records nothing more")
            return false
        }
    }
}
