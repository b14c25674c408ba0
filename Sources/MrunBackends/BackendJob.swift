import Foundation
import MrunSupport
import MrunConfig
import MrunHistory

/// The ids a backend names its own jobs by (``JobControl/jobIDKind``): what tells a reference to
/// such a job from a reference to a launch in the history.
public struct JobIDKind: Sendable {
    /// Who reports on such a job, as messages name it: `Slurm`.
    public var system: String
    /// Whether a reference has the form of such an id: `123`, or `123_4` for a sweep's point.
    public var matches: @Sendable (String) -> Bool

    public init(system: String, matches: @escaping @Sendable (String) -> Bool) {
        self.system = system
        self.matches = matches
    }
}

/// A job as its backend lists it (`mrun list --all`), whether or not the history holds it.
public struct BackendJob: Sendable, Equatable {
    /// The backend's handle: a Slurm job id, a Kubernetes Job name.
    public var id: String
    public var name: String
    public var state: JobState
    /// The job's row under its list's ``BackendJobList/columns``, in the backend's words
    /// (`TIMEOUT`, `PENDING`).
    public var cells: [String]

    public init(id: String, name: String, state: JobState, cells: [String]) {
        self.id = id
        self.name = name
        self.state = state
        self.cells = cells
    }
}

/// The jobs a backend lists, under columns of its own: what its users know of a job differs
/// (Slurm's submit time, a Kubernetes Job's age and duration).
public struct BackendJobList: Sendable, Equatable {
    public var columns: [String]
    public var jobs: [BackendJob]

    public init(columns: [String], jobs: [BackendJob]) {
        self.columns = columns
        self.jobs = jobs
    }

    /// A header and one line per job, each column as wide as its widest cell.
    public var table: String {
        let rows = [columns] + jobs.map(\.cells)
        let widths = columns.indices.map { column in
            rows.map { $0.indices.contains(column) ? $0[column].count : 0 }.max() ?? 0
        }
        return rows.map { row in
            zip(row, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }
                .joined(separator: "  ").trimmingCharacters(in: .whitespaces) + "\n"
        }.joined()
    }
}
