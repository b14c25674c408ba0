import GRDB

/// Where a job is in its life, whatever the backend: the one state the history records, the
/// backends report and the commands print. Stored as its raw text, so the history stays readable
/// with `sqlite3` (and a database written before this type had its name reads unchanged).
///
/// A backend's finer words (Slurm's `TIMEOUT`, a Kubernetes pod's `ImagePullBackOff`) stay with
/// the backend, in its own job description, and map onto these. Two endings are the cluster's,
/// not the experiment's, and have states of their own: `preempted` (Slurm's `PREEMPTED`: another
/// job took the resources) and `node_fail` (Slurm's `NODE_FAIL`: the node died under it).
public enum JobState: String, Codable, Sendable, CaseIterable, DatabaseValueConvertible {
    case submitted, running, completed, failed, cancelled, unknown
    case preempted
    case nodeFail = "node_fail"

    /// Whether the job has ended and its state will not change again.
    public var isFinal: Bool { self == .completed || self == .cancelled || isFailure }

    /// Whether it ended without completing, by the experiment's fault or the cluster's (what
    /// `rerun --failed` and `logs --failed` take).
    public var isFailure: Bool { self == .failed || self == .preempted || self == .nodeFail }
}
