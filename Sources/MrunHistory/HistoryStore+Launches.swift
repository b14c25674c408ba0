import Foundation
import GRDB
import MrunSupport
import MrunConfig
import MrunTemplates
import MrunPlan

extension HistoryStore {
    /// Stores several launches (a sweep's points) in one transaction: all or none.
    public func record(_ launches: [LaunchRecord]) throws {
        try write { db in try HistoryWrites.insert(launches, db) }
    }

    /// Sets the job ids the backend gave launches, and their state, in one transaction.
    public func update(jobs: [(id: String, jobId: String)], state: JobState, now: Date = Date()) throws {
        let jobs = jobs.map { HistoryWrites.Job(id: $0.id, jobId: $0.jobId) }
        try write { db in try HistoryWrites.start(jobs, state: state, now: now, db) }
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
