import Foundation
import GRDB
import MrunSupport

/// Launches whose traces on their backend `mrun rm` removed (a Job, a job directory, a run
/// directory): still in the history, for `show`, `diff` and `rerun`, but not listed by default.
extension HistoryStore {
    /// Marks the launches as removed at `now`; marking one again keeps its first date.
    public func markRemoved(_ ids: [String], now: Date = Date()) throws {
        try access {
            try pool.write { db in
                for id in ids {
                    try db.execute(
                        sql: "INSERT OR IGNORE INTO removal (launchId, removed) VALUES (?, ?)",
                        arguments: [id, HistoryDate.text(now)])
                }
            }
        }
    }

    /// The ids of the removed launches.
    public func removedIDs() throws -> Set<String> {
        try access {
            try pool.read { db in Set(try String.fetchAll(db, sql: "SELECT launchId FROM removal")) }
        }
    }
}
