import Foundation
import GRDB
import Testing

@testable import MrunKit
@testable import MrunBackends
@testable import MrunHistory

/// The Slurm jobs submitted from here, in the history since schema v3: the JSON files older mrun
/// kept under `$MRUN_HOME/jobs` are imported when the history is upgraded, once, all or none.
@Suite struct HistorySlurmJobRecordTests {
    /// A record file exactly as older mrun wrote it (pretty, sorted keys, ISO 8601 dates).
    static func oldFile(id: String, output: String) -> String {
        """
        {
          "host" : "cluster",
          "id" : "\(id)",
          "jobDirectory" : "/h/mrun/p/exp-abcde",
          "name" : "exp-abcde",
          "output" : "\(output)",
          "project" : "p",
          "submitted" : "2026-01-02T03:04:05Z"
        }

        """
    }

    /// A history at schema v2 with one launch, as the last mrun before v3 left it.
    static func versionTwoHistory(_ history: HistoryFixture) throws {
        try FileManager.default.createDirectory(at: history.home, withIntermediateDirectories: true)
        let queue = try DatabaseQueue(path: history.file.path)
        try HistorySchema.migrator.migrate(queue, upTo: "v2")
        try queue.write { db in
            try db.execute(sql: "INSERT INTO manifest (codeHash, files) VALUES ('c1', '{}')")
            try db.execute(
                sql: """
                    INSERT INTO launch (id, experimentName, project, created, user, contextName, context, backend,
                        contentHash, codeHash, script, args, parameters, tags, state, updated)
                    VALUES ('old00001', 'old-aaaaa', 'p', '2026-01-01 10:00:00.000', 'ada', 'tb',
                        '{"name": "tb", "type": "slurm"}', 'slurm', 'h1', 'c1', 'a.py', '[]', '{}', '[]',
                        'completed', '2026-01-01 10:00:01.000')
                    """)
        }
        try queue.close()
    }

    @Test func oldJobFilesAreFoundAfterTheUpgrade() throws {
        let history = try HistoryFixture()
        try Self.versionTwoHistory(history)
        let jobs = history.home.appendingPathComponent("jobs")
        let files = [
            "tb/315.json": Self.oldFile(id: "315", output: "/h/mrun/p/exp-abcde/slurm-315_%a.out"),
            "tb/42.json": Self.oldFile(id: "42", output: "/h/mrun/p/exp-abcde/slurm-42.out"),
            "other/42.json": Self.oldFile(id: "42", output: "/elsewhere/slurm-42.out"),
            "tb/43.json": "{ not json",
            "tb/notes.txt": "not a record",
        ]
        for (path, text) in files {
            let url = jobs.appendingPathComponent(path)
            try FileManager.default.createDirectory(
                at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(text.utf8).write(to: url)
        }

        let store = try history.store()
        #expect(try store.list().map(\.id) == ["old00001"], "the launches stay")
        #expect(try store.read { db in try Int.fetchOne(db, sql: "PRAGMA user_version") } == HistorySchema.version)
        let expected = SlurmJobRecord(
            context: "tb", id: "42", name: "exp-abcde", project: "p", host: "cluster",
            jobDirectory: "/h/mrun/p/exp-abcde", output: "/h/mrun/p/exp-abcde/slurm-42.out",
            submitted: Date(timeIntervalSince1970: 1_767_323_045))
        #expect(try store.slurmJob(id: "42", context: "tb") == expected)
        #expect(try store.slurmJob(id: "42", context: "other")?.output == "/elsewhere/slurm-42.out")
        #expect(try store.slurmJob(id: "43", context: "tb") == nil, "an unreadable file is left out")
        #expect(try store.read { db in try SlurmJobRecord.fetchCount(db) } == 3)

        // Found where `logs` looks, a sweep's point by its array's record.
        let records = SlurmJobRecords(context: "tb", history: { store })
        #expect(records.load("315_4")?.output == "/h/mrun/p/exp-abcde/slurm-315_4.out")
        #expect(records.load("315")?.output == "/h/mrun/p/exp-abcde/slurm-315_%a.out")
        #expect(records.load("316") == nil && records.load("12x") == nil)
        for path in files.keys {
            #expect(FileManager.default.fileExists(atPath: jobs.appendingPathComponent(path).path), "\(path) stays")
        }

        // Imported once: a record made since is not overwritten by the file on the next open.
        var newer = expected
        newer.output = "/h/new/slurm-42.out"
        try store.record(newer)
        #expect(try history.store().slurmJob(id: "42", context: "tb")?.output == "/h/new/slurm-42.out")
        #expect(try history.store().read { db in try SlurmJobRecord.fetchCount(db) } == 3)
    }

    @Test func aFailedUpgradeLeavesTheHistoryAsItWas() throws {
        let history = try HistoryFixture()
        try Self.versionTwoHistory(history)
        try Data(Self.oldFile(id: "7", output: "/h/slurm-7.out").utf8).write(
            to: history.home.appendingPathComponent("jobs/tb/7.json").creating())
        // A table in the way makes v3 fail: none of it may stay, the history reads as before.
        let queue = try DatabaseQueue(path: history.file.path)
        try queue.write { db in
            try db.execute(sql: "CREATE TABLE slurmJob (context TEXT, id TEXT)")
        }
        try queue.close()

        #expect(throws: HistoryError.self) { try history.store() }
        let reopened = try DatabaseQueue(path: history.file.path)
        let (version, migrations, rows, launches) = try reopened.read { db in
            (
                try Int.fetchOne(db, sql: "PRAGMA user_version"),
                try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations"),
                try Int.fetchOne(db, sql: "SELECT count(*) FROM slurmJob"),
                try String.fetchAll(db, sql: "SELECT id FROM launch")
            )
        }
        #expect(version == 2 && migrations == ["v1", "v2"], "the migration rolled back")
        #expect(rows == 0 && launches == ["old00001"])
    }

    @Test func aNewHistoryRecordsSubmittedJobs() throws {
        let history = try HistoryFixture()
        let store = try history.store()
        let record = SlurmJobRecord(
            context: "tb", id: "9", name: "exp-abcde", project: "p", host: "cluster", jobDirectory: "/h/j",
            output: "/h/j/slurm-9.out", submitted: Date(timeIntervalSince1970: 1_800_000_000.1234))
        try store.record(record)
        #expect(try store.slurmJob(id: "9", context: "tb") == record)
        #expect(record.submitted == Date(timeIntervalSince1970: 1_800_000_000.123), "kept to the millisecond")
        #expect(try store.slurmJob(id: "9", context: "other") == nil)
        #expect(!FileManager.default.fileExists(atPath: history.home.appendingPathComponent("jobs").path))
    }
}

extension URL {
    /// This file's URL, its directory created.
    fileprivate func creating() throws -> URL {
        try FileManager.default.createDirectory(at: deletingLastPathComponent(), withIntermediateDirectories: true)
        return self
    }
}
