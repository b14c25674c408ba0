import Foundation
import GRDB
import MrunSupport
import MrunConfig
import MrunTemplates
import MrunPlan

extension HistoryStore {
    /// Stores several launches (a sweep's points) in one transaction: all or none.
    public func record(_ launches: [LaunchRecord]) throws {
        try access {
            try pool.write { db in
                for launch in launches {
                    if try LaunchRecord.exists(db, key: launch.id) { throw HistoryError.duplicateID(launch.id) }
                    try CodeManifest(codeHash: launch.codeHash, files: launch.files).insert(db, onConflict: .ignore)
                    try launch.insert(db)
                }
            }
        }
    }

    /// Sets the job ids the backend gave launches, and their state, in one transaction.
    public func update(jobs: [(id: String, jobId: String)], state: JobState, now: Date = Date()) throws {
        try access {
            try pool.write { db in
                for job in jobs {
                    try LaunchRecord.filter(key: job.id).updateAll(
                        db,
                        LaunchRecord.Columns.jobId.set(to: job.jobId), LaunchRecord.Columns.state.set(to: state),
                        LaunchRecord.Columns.updated.set(to: HistoryDate.text(now)))
                }
            }
        }
    }

    /// Records what a backend reported of launches that had not ended, leaving alone any that ended
    /// meanwhile: the mrun process running a local launch writes its final state itself, and a
    /// `list` that looked a moment earlier must not overwrite it. Returns the launches changed.
    @discardableResult
    public func refresh(_ states: [String: (state: JobState, exitCode: Int32?)], now: Date = Date()) throws
        -> Int
    {
        let open = JobState.allCases.filter { !$0.isFinal }
        return try access {
            try pool.write { db in
                var changed = 0
                for (id, reported) in states.sorted(by: { $0.key < $1.key }) {
                    changed += try LaunchRecord.filter(key: id)
                        .filter(open.contains(LaunchRecord.Columns.state))
                        .updateAll(
                            db,
                            LaunchRecord.Columns.state.set(to: reported.state),
                            LaunchRecord.Columns.exitCode.set(to: reported.exitCode),
                            LaunchRecord.Columns.updated.set(to: HistoryDate.text(now)))
                }
                return changed
            }
        }
    }
}
