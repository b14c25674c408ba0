import MrunSupport
import MrunConfig
import MrunTemplates
import MrunPlan
import MrunHistory
import KubernetesAPI

/// A launch's state as its backend reports it now.
public struct JobStatus: Sendable, Equatable {
    public var state: JobState
    /// The experiment's exit status once it ended: its own code, or 128 + the signal that ended it.
    public var exitCode: Int32?
    /// One line: `COMPLETED, exit code 0`, `RUNNING`, `CANCELLED (signal 15)`.
    public var summary: String
    /// `mrun status` lines (`Label      value`), from the job line on.
    public var details: String

    public init(state: JobState, exitCode: Int32?, summary: String, details: String) {
        self.state = state
        self.exitCode = exitCode
        self.summary = summary
        self.details = details
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

/// What `mrun status`, `logs`, `cancel`, `list` and `wait` need of a backend, for launches in the
/// history. One implementation per context type: ``LocalJobControl`` (the run directory and the
/// process), ``SlurmJobControl`` (squeue, sacct, scancel over the context's ssh connection), and
/// ``KubernetesJobControl`` (the Jobs and pods through the cluster's API).
public protocol JobControl: Sendable {
    /// The state of each of `launches` (all of this control's context) that has not ended, asked
    /// in as few calls as the backend allows: Slurm answers for all of them in one round trip.
    /// Keyed by launch id; launches without a job yet are left out.
    func refresh(_ launches: [LaunchRecord]) async throws -> [String: JobStatus]

    /// The launch's state with what the backend knows besides (output file, reason).
    func status(_ launch: LaunchRecord) async throws -> JobStatus

    /// Prints the launch's output to `sink`; with `follow`, keeps printing until it ends.
    func logs(_ launch: LaunchRecord, follow: Bool, sink: any OutputSink) async throws -> JobStatus

    /// Stops the launch and waits until it has ended. `before` is its state when asked: a launch
    /// that had already ended is left alone (`before.state.isFinal`).
    func cancel(_ launch: LaunchRecord) async throws -> (before: JobStatus, after: JobStatus)
}

public enum JobControls {
    /// The control for launches on `context`, from its backend's entry in ``Backends``.
    public static func control(for context: Context, environment: MrunEnvironment, history: HistoryStore) throws
        -> any JobControl
    {
        try Backends.entry(for: context.type).control(environment, context, history)
    }
}

public enum JobControlError: UserFacingError, Equatable {
    case noJob(launch: String, name: String)
    case noOutput(launch: String, path: String)
    case notStopped(launch: String, pid: String)

    public var description: String {
        switch self {
        case .noJob(let launch, let name):
            return "launch \(launch) (\(name)) has no job: it was never started or submitted"
        case .noOutput(let launch, let path):
            return "launch \(launch) has no output yet (\(path) does not exist)"
        case .notStopped(let launch, let pid):
            return "launch \(launch) (process \(pid)) is still running after SIGTERM and SIGKILL"
        }
    }
}
