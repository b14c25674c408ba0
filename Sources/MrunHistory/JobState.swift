import GRDB

/// Where a job is in its life, whatever the backend: the one state the history records, the
/// backends report and the commands print. Stored as its raw text, so the history stays readable
/// with `sqlite3` (and a database written before this type had its name reads unchanged).
///
/// A backend's finer words (Slurm's `TIMEOUT` or `NODE_FAIL`, a Kubernetes pod's
/// `ImagePullBackOff`) stay with the backend, in its own job description, and map onto these.
public enum JobState: String, Codable, Sendable, CaseIterable, DatabaseValueConvertible {
    case submitted, running, completed, failed, cancelled, unknown

    /// Whether the job has ended and its state will not change again.
    public var isFinal: Bool { self == .completed || self == .failed || self == .cancelled }
}
