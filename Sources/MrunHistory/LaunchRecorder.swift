import Foundation
import GRDB
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
    /// The commit the launches run; ``learned(git:)`` may give it after the recorder was made.
    public var git: GitState? { gitState.withLock { $0 } }
    private let gitState: Mutex<GitState?>
    public let inputs: LaunchInputs
    private let warn: @Sendable (String) -> Void
    private let now: @Sendable () -> Date
    private let failed = Mutex(false)

    public init(
        store: HistoryStore, user: String, git: GitState?, inputs: LaunchInputs,
        warn: @escaping @Sendable (String) -> Void, now: @escaping @Sendable () -> Date = Date.init
    ) {
        self.store = store
        self.user = user
        gitState = Mutex(git)
        self.inputs = inputs
        self.warn = warn
        self.now = now
    }

    /// The git state, learned while the launch was being prepared (`git` runs beside the setup of
    /// a sweep's cluster); before any record is made.
    public func learned(git: GitState?) {
        gitState.withLock { $0 = git }
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
    public func record(_ sweep: SweepPlan) async -> Bool {
        let record = SweepRecord(sweep: sweep, user: user, inputs: inputs)
        return await attempt("cannot record sweep \(sweep.id)") { db in try HistoryWrites.insert(record, db) }
    }

    /// Records launches about to be made, all or none; false when they were not recorded.
    @discardableResult
    public func record(_ launches: [LaunchRecord]) async -> Bool {
        guard !launches.isEmpty else { return true }
        let what = launches.count == 1 ? "launch \(launches[0].experimentName)" : "\(launches.count) launches"
        return await attempt("cannot record \(what)") { db in try HistoryWrites.insert(launches, db) }
    }

    /// The backend's job ids (Slurm job, local process) for recorded launches, and the digest of
    /// their image when it was not known when they were recorded.
    public func started(_ jobs: [(id: String, jobId: String)], state: JobState, imageDigest: String? = nil) async {
        guard let first = jobs.first else { return }
        let jobs = jobs.map { HistoryWrites.Job(id: $0.id, jobId: $0.jobId) }
        let now = self.now()
        await attempt("cannot record the job id of launch \(first.id)") { db in
            try HistoryWrites.start(jobs, state: state, imageDigest: imageDigest, now: now, db)
        }
    }

    /// How launches ended (or failed to launch).
    public func finished(_ ids: [String], state: JobState, exitCode: Int32?) async {
        guard let first = ids.first else { return }
        let now = self.now()
        await attempt("cannot record the end of launch \(first)") { db in
            for id in ids { try HistoryWrites.end(id, state: state, exitCode: exitCode, jobId: nil, now: now, db) }
        }
    }

    @discardableResult
    private func attempt(_ what: String, _ updates: @escaping @Sendable (Database) throws -> Void) async -> Bool {
        if hasFailed { return false }
        do {
            try await store.write(updates)
            return true
        } catch {
            failed.withLock { $0 = true }
            warn("\(what) in the history (\(error)); the experiment is not affected, but mrun records nothing more")
            return false
        }
    }
}
