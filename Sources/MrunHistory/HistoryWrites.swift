import Foundation
import GRDB

/// The transactions that record launches as the backends make them, shared by the store's
/// blocking methods (commands, tests) and the recorder's suspending ones (backends).
enum HistoryWrites {
    struct Job: Sendable {
        var id: String
        var jobId: String
    }

    /// New launches and their file manifests (shared with earlier launches of the same code).
    /// A sweep's points share their code: its manifest is written once, not once a point.
    static func insert(_ launches: [LaunchRecord], _ db: Database) throws {
        var manifests: Set<String> = []
        // One query a few hundred ids, not one a launch (SQLite binds at most 32766 values).
        var taken: Set<String> = []
        for start in stride(from: 0, to: launches.count, by: 500) {
            let ids = launches[start..<min(start + 500, launches.count)].map(\.id)
            taken.formUnion(try String.fetchSet(db, LaunchRecord.select(LaunchRecord.Columns.id).filter(keys: ids)))
        }
        var seen: Set<String> = []
        if let duplicate = launches.first(where: { taken.contains($0.id) || !seen.insert($0.id).inserted }) {
            throw HistoryError.duplicateID(duplicate.id)
        }
        // A sweep's points share their context: its JSON is written once.
        let contexts = try StoredContext.encodingOnce(launches.map(\.storedContext))
        for (offset, var launch) in launches.enumerated() {
            launch.storedContext = contexts[offset]
            if manifests.insert(launch.codeHash).inserted {
                try CodeManifest(codeHash: launch.codeHash, files: launch.files).insert(db, onConflict: .ignore)
            }
            try launch.insert(db)
        }
    }

    /// A sweep, before its points are launched.
    static func insert(_ sweep: SweepRecord, _ db: Database) throws {
        if try SweepRecord.exists(db, key: sweep.id) { throw HistoryError.duplicateID(sweep.id) }
        try sweep.insert(db)
    }

    /// The job ids the backend gave launches, and their state; and the image they run, when it
    /// was known only after they were recorded.
    static func start(_ jobs: [Job], state: JobState, imageDigest: String? = nil, now: Date, _ db: Database) throws {
        // One statement compiled once, each row bound in turn: a sweep's start writes hundreds.
        let statement = try db.cachedStatement(
            sql:
                "UPDATE \(LaunchRecord.databaseTableName) SET state = ?, updated = ?, imageDigest = coalesce(?, imageDigest), jobId = ? WHERE id = ?"
        )
        let updated = HistoryDate.text(now)
        for job in jobs {
            try statement.execute(arguments: [state.rawValue, updated, imageDigest, job.jobId, job.id])
        }
    }

    /// A launch's state and exit code (nil clears it), and its job id when given.
    static func end(
        _ id: String, state: JobState, exitCode: Int32?, jobId: String?, now: Date, _ db: Database
    ) throws {
        var assignments = [
            LaunchRecord.Columns.state.set(to: state),
            LaunchRecord.Columns.exitCode.set(to: exitCode),
            LaunchRecord.Columns.updated.set(to: HistoryDate.text(now)),
        ]
        if let jobId { assignments.append(LaunchRecord.Columns.jobId.set(to: jobId)) }
        let changed = try LaunchRecord.filter(key: id).updateAll(db, assignments)
        if changed == 0 { throw HistoryError.notFound(reference: id) }
    }
}
