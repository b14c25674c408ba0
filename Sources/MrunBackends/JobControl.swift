import MrunSupport
import MrunConfig
import MrunTemplates
import MrunPlan
import MrunHistory
import KubernetesAPI

/// A job's state as its backend reports it now.
public struct JobStatus: Sendable, Equatable {
    public var state: JobState
    /// The experiment's exit status once it ended: its own code, or 128 + the signal that ended it.
    public var exitCode: Int32?
    /// One line: `COMPLETED, exit code 0`, `RUNNING`, `CANCELLED (signal 15)`.
    public var summary: String
    /// `mrun status` lines (`Label      value`), from the job line on.
    public var details: String
    /// The job's name as the backend reports it (a Slurm job's `--job-name`, a Kubernetes Job's
    /// name); empty where it tells none. What `cancel` and `wait` print of a job the history does
    /// not hold.
    public var name: String

    public init(state: JobState, exitCode: Int32?, summary: String, details: String, name: String = "") {
        self.state = state
        self.exitCode = exitCode
        self.summary = summary
        self.details = details
        self.name = name
    }

    /// The launch's state as the history recorded it.
    public init(recorded launch: LaunchRecord) {
        var summary = launch.state.rawValue.uppercased()
        if launch.state.isFinal, let code = launch.exitCode { summary += ", exit code \(code)" }
        self.init(
            state: launch.state, exitCode: launch.exitCode, summary: summary,
            details: "Job        \(launch.jobId ?? "none")\nState      \(summary)\n")
    }

    /// The status `mrun wait` ends with for this launch: 0 when it completed, else its exit code,
    /// or 1 when it has none.
    public var waitStatus: Int32 {
        if state == .completed { return 0 }
        if let exitCode, exitCode != 0 { return exitCode }
        return 1
    }
}

/// What `mrun status`, `logs`, `cancel`, `list` and `wait` need of a backend. One implementation
/// per context type: ``LocalJobControl`` (the run directory and the process), ``SlurmJobControl``
/// (squeue, sacct, scancel over the context's ssh connection), and ``KubernetesJobControl`` (the
/// Jobs and pods through the cluster's API).
///
/// Launches in the history are followed by their records. A backend that names its jobs by ids of
/// its own (``jobIDKind``: Slurm's job ids) also follows a job the history does not hold, by that
/// id: one submitted from another machine, or before mrun kept a history. And a backend may list
/// its own jobs, whoever launched them (``backendJobs()``, `mrun list --all`). Each of these has a
/// default for the backends without: no job ids of their own, no list beyond the history.
public protocol JobControl: Sendable {
    /// The state of each of `launches` (all of this control's context) that has not ended, asked
    /// in as few calls as the backend allows: Slurm answers for all of them in one round trip.
    /// Keyed by launch id; launches without a job yet are left out.
    func refresh(_ launches: [LaunchRecord]) async throws -> [String: JobStatus]

    /// The launch's state with what the backend knows besides (output file, reason).
    func status(_ launch: LaunchRecord) async throws -> JobStatus

    /// Prints the launch's output to `sink`; with `follow`, keeps printing until it ends.
    func logs(_ launch: LaunchRecord, follow: Bool, sink: any OutputSink) async throws -> JobStatus

    /// Removes what the ended `launches` left that would stand in the way of launching them again
    /// under the same names (`mrun rerun --failed`): Kubernetes' Jobs. The default has nothing to do.
    func clearForRelaunch(_ launches: [LaunchRecord]) async throws

    /// Removes what the ended `launch` left on its backend (a Job with its pods, a job directory, a
    /// run directory) for `mrun rm`, but not a directory launches that stay still share
    /// (`keepDirectory`); returns what it removed, a phrase each (empty: nothing was left). The
    /// default removes nothing.
    func remove(_ launch: LaunchRecord, keepDirectory: Bool) async throws -> [String]

    /// Whether cancelling a launch deletes its output with its job (a Kubernetes Job's pods), so
    /// that it must be read before, to be kept.
    var cancelRemovesOutput: Bool { get }

    /// Prints one node's output of a gang (`mrun logs --node R`). The default refuses: where a
    /// gang's log is one file, its lines carry their ranks already.
    func logs(_ launch: LaunchRecord, node: Int, follow: Bool, sink: any OutputSink) async throws -> JobStatus

    /// Stops the launch and waits until it has ended. `before` is its state when asked: a launch
    /// that had already ended is left alone (`before.state.isFinal`).
    func cancel(_ launch: LaunchRecord) async throws -> (before: JobStatus, after: JobStatus)

    /// Stops together those of `launches` that the backend runs as one job and that can only be
    /// stopped as one (every point of a sweep run as one Kubernetes Indexed Job); keyed by launch
    /// id. The others are left to ``cancel(_:)``, one by one. The default takes none.
    func cancelTogether(_ launches: [LaunchRecord]) async -> [String: Result<
        (before: JobStatus, after: JobStatus), any Error
    >]

    /// The ids the backend names its own jobs by, with which a job the history does not hold is
    /// followed; nil (the default) when its jobs are named only through the history. A property of
    /// the backend, so a reference is told apart before a control (an ssh session) is made.
    static var jobIDKind: JobIDKind? { get }

    /// Whether a launch this backend reported `unknown` is gone for good, so that `resume` starts
    /// it again: on ssh hosts its process vanished without an exit code (the host rebooted). False
    /// (the default) where `unknown` may still have ended on its own.
    static var unknownIsLost: Bool { get }

    /// The state of job `jobID`, a ``jobIDKind`` id, as the backend reports it.
    func status(jobID: String) async throws -> JobStatus

    /// Prints job `jobID`'s output to `sink`; with `follow`, keeps printing until it ends.
    func logs(jobID: String, follow: Bool, sink: any OutputSink) async throws -> JobStatus

    /// Stops job `jobID` and waits until it has ended; one that had ended is left alone.
    func cancel(jobID: String) async throws -> (before: JobStatus, after: JobStatus)

    /// Blocks until job `jobID` has ended; returns its state then.
    func wait(jobID: String) async throws -> JobStatus

    /// The backend's own list of jobs (`mrun list --all`), oldest first, whoever launched them;
    /// nil (the default) when the backend has none beyond the history.
    func backendJobs() async throws -> BackendJobList?
}

extension JobControl {
    public static var jobIDKind: JobIDKind? { nil }

    public var cancelRemovesOutput: Bool { false }

    public func clearForRelaunch(_ launches: [LaunchRecord]) async throws {}

    public func remove(_ launch: LaunchRecord, keepDirectory: Bool) async throws -> [String] { [] }

    public func logs(_ launch: LaunchRecord, node: Int, follow: Bool, sink: any OutputSink) async throws -> JobStatus {
        throw JobControlError.noNodeLogs(
            launch: launch.id,
            reason: "has one log for all its processes, each line prefixed with its rank ('[rank R] ')")
    }

    public func cancelTogether(_ launches: [LaunchRecord]) async
        -> [String: Result<(before: JobStatus, after: JobStatus), any Error>]
    {
        [:]
    }
    public static var unknownIsLost: Bool { false }

    public func status(jobID: String) async throws -> JobStatus {
        throw JobControlError.noJobIDs(reference: jobID)
    }

    public func logs(jobID: String, follow: Bool, sink: any OutputSink) async throws -> JobStatus {
        throw JobControlError.noJobIDs(reference: jobID)
    }

    public func cancel(jobID: String) async throws -> (before: JobStatus, after: JobStatus) {
        throw JobControlError.noJobIDs(reference: jobID)
    }

    /// Asks ``status(jobID:)`` every second until the job has ended.
    public func wait(jobID: String) async throws -> JobStatus {
        while true {
            let status = try await status(jobID: jobID)
            if status.state.isFinal { return status }
            try await Task.sleep(for: .seconds(1))
        }
    }

    public func backendJobs() async throws -> BackendJobList? { nil }
}

/// Opens the history when a control first needs it: a job the history does not hold, or a
/// backend's own list, needs none, and a history that cannot be opened must not stop those.
public typealias OpenHistory = @Sendable () throws -> HistoryStore

public enum JobControls {
    /// The control for launches on `context`, from its backend's entry in ``Backends``.
    public static func control(for context: Context, environment: MrunEnvironment, history: HistoryStore) throws
        -> any JobControl
    {
        try control(for: context, environment: environment, history: { history })
    }

    /// The control for jobs on `context`, opening the history only if it needs it.
    public static func control(
        for context: Context, environment: MrunEnvironment, history: @escaping OpenHistory
    ) throws -> any JobControl {
        try Backends.entry(for: context.type).control(environment, context, history)
    }

    /// The way to `launch`'s output directory on `context`'s backend (`mrun fetch`).
    public static func output(
        for launch: LaunchRecord, context: Context, environment: MrunEnvironment, history: @escaping OpenHistory
    ) throws -> any OutputTransport {
        try Backends.entry(for: context.type).output(environment, context, launch, history)
    }

    /// `launch`'s `MRUN_OUTPUT_DIR` as its job saw it, from `context` as it is now (its storage
    /// and workdir); nil when the backend gives it none.
    public static func outputDirectory(of launch: LaunchRecord, context: Context, environment: MrunEnvironment)
        throws -> String?
    {
        let planner = try Backends.entry(for: context.type).planner
        let storage = planner.storagePath(
            configured: context.storage, project: launch.project, host: environment.host,
            mrunHome: environment.store.home)
        return planner.outputBase(storage: storage, context: context).map {
            OutputDirectory.path(base: $0, project: launch.project, name: launch.experimentName)
        }
    }

    /// Whether `resume` starts again the launches of contexts of `type` that ended `unknown`.
    public static func unknownIsLost(for type: ContextType) -> Bool {
        (try? Backends.entry(for: type))?.controlType.unknownIsLost ?? false
    }

    /// The ids the backend of contexts of `type` names its own jobs by, if any.
    public static func jobIDKind(for type: ContextType) -> JobIDKind? {
        (try? Backends.entry(for: type))?.controlType.jobIDKind
    }
}

public enum JobControlError: UserFacingError, Equatable {
    case noJob(launch: String, name: String)
    case noOutput(launch: String, path: String)
    case notStopped(launch: String, pid: String)
    /// Only a backend with ``JobControl/jobIDKind`` follows jobs by id.
    case noJobIDs(reference: String)
    /// `mrun list --all` on a context whose backend lists no jobs of its own.
    case noBackendJobs(context: String, type: ContextType)
    /// `mrun logs --node` where a launch's log is not kept per node.
    case noNodeLogs(launch: String, reason: String)
    /// `mrun rm` of a directory that is not one mrun made for a launch.
    case notRemovable(launch: String, path: String)

    public var description: String {
        switch self {
        case .noJob(let launch, let name):
            return "launch \(launch) (\(name)) has no job: it was never started or submitted"
        case .noOutput(let launch, let path):
            return "launch \(launch) has no output yet (\(path) does not exist)"
        case .notStopped(let launch, let pid):
            return "launch \(launch) (process \(pid)) is still running after SIGTERM and SIGKILL"
        case .noJobIDs(let reference):
            return "\(quoted: reference) is not a job id of this context's backend; name a launch from 'mrun list'"
        case .noBackendJobs(let context, let type):
            // Worded as when only Slurm listed its jobs here: scripts may match it.
            return "context \(quoted: context) is of type \(type.rawValue); this command works on slurm contexts"
                + " (choose one with --context)"
        case .noNodeLogs(let launch, let reason):
            return "--node: launch \(launch) \(reason); drop --node"
        case .notRemovable(let launch, let path):
            return "launch \(launch)'s directory \(path) is not one mrun made for a launch; it was left alone"
        }
    }
}
