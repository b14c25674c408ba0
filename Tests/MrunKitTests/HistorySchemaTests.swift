import FakeKubernetes
import Foundation
import GRDB
import Testing

@testable import MrunKit
@testable import KubernetesAPI
@testable import MrunBackends
@testable import MrunConfig
@testable import MrunHistory
@testable import MrunPlan
@testable import MrunSupport
@testable import MrunTemplates

@Suite struct HistorySchemaTests {
    @Test func newAndEmptyFilesAreMigrated() throws {
        for startEmpty in [false, true] {
            let history = try HistoryFixture()
            if startEmpty {
                try FileManager.default.createDirectory(at: history.home, withIntermediateDirectories: true)
                try Data().write(to: history.file)
            }
            let store = try history.store()
            try store.record(HistoryFixture.launch())
            let (version, migrations, tables) = try store.pool.read { db in
                (
                    try Int.fetchOne(db, sql: "PRAGMA user_version"),
                    try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations"),
                    try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
                )
            }
            #expect(version == HistorySchema.version && migrations == ["v1", "v2", "v3", "v4", "v5"])
            #expect(tables == ["grdb_migrations", "launch", "manifest", "removal", "slurmJob", "sshLaunch", "sweep"])
            #expect(try store.pool.read { db in try String.fetchOne(db, sql: "PRAGMA journal_mode") } == "wal")
            // Reopening a current file migrates nothing and keeps the launch.
            #expect(try history.store().list().count == 1)
            let mode = try FileManager.default.attributesOfItem(atPath: history.file.path)[.posixPermissions] as? Int
            #expect(startEmpty || mode == 0o600)
        }
    }

    @Test func randomBytesAreRefusedUntouched() throws {
        let history = try HistoryFixture()
        try FileManager.default.createDirectory(at: history.home, withIntermediateDirectories: true)
        var generator = SystemRandomNumberGenerator()
        let garbage = Data((0..<4096).map { _ in UInt8.random(in: 0...255, using: &generator) })
        try garbage.write(to: history.file)
        let path = history.file.path
        let error = #expect(throws: HistoryError.self) { try history.store() }
        #expect(
            error?.description
                == "history database \(path) is corrupt or not an SQLite database (it does not start with the SQLite"
                + " header); move it aside (mv \(path) \(path).broken) and mrun starts a new history")
        #expect(try history.bytes() == garbage)
        #expect(!FileManager.default.fileExists(atPath: path + "-wal"))
    }

    @Test func malformedDatabaseIsRefusedUntouched() throws {
        let history = try HistoryFixture()
        try history.store().record(HistoryFixture.launch())
        // Keep SQLite's header but scramble the rest of page 1, where the schema lives.
        var bytes = try history.bytes()
        for index in 100..<min(bytes.count, 4096) { bytes[index] = UInt8(truncatingIfNeeded: index &* 31) }
        try bytes.write(to: history.file)
        let error = #expect(throws: HistoryError.self) { try history.store() }
        guard case .corrupt(let file, _) = error else {
            Issue.record("expected a corrupt-file error, got \(String(describing: error))")
            return
        }
        #expect(file == history.file.path)
        #expect(error?.description.contains("move it aside (mv \(file) \(file).broken)") == true)
        #expect(try history.bytes() == bytes)
    }

    @Test func newerSchemaIsRefusedUntouched() throws {
        for marker in [
            "INSERT INTO grdb_migrations (identifier) VALUES ('v\(HistorySchema.version + 1)-added-by-a-newer-mrun')",
            "PRAGMA user_version = \(HistorySchema.version + 1)",
        ] {
            let history = try HistoryFixture()
            try history.store().record(HistoryFixture.launch())
            try DatabaseQueue(path: history.file.path).write { db in try db.execute(sql: marker) }
            let before = try history.bytes()
            let error = #expect(throws: HistoryError.self) { try history.store() }
            #expect(
                error?.description
                    == "history database \(history.file.path) was written by a newer mrun;"
                    + " upgrade mrun or move the file away")
            #expect(try history.bytes() == before)
        }
    }

    @Test func anotherProgramsDatabaseIsRefused() throws {
        let history = try HistoryFixture()
        try FileManager.default.createDirectory(at: history.home, withIntermediateDirectories: true)
        try DatabaseQueue(path: history.file.path).write { db in
            try db.execute(sql: "CREATE TABLE notes (text TEXT)")
        }
        let before = try history.bytes()
        #expect(throws: HistoryError.foreign(file: history.file.path)) { try history.store() }
        #expect(try history.bytes() == before)
    }

    @Test func contextsRecordedBeforeAFieldWasAddedStillRead() throws {
        let full = PlanFixture.slurm
        let json = try JSONEncoder().encode(StoredContext(full))
        #expect(try JSONDecoder().decode(StoredContext.self, from: json).value == full)
        // As an older mrun wrote it: no `neptune`, no `env`, and `slurm` without its lists.
        let old =
            #"{"name": "old", "type": "slurm", "resources": {}, "kubernetes": {}, "slurm": {"host": "h", "nodes": 2}}"#
        let decoded = try JSONDecoder().decode(StoredContext.self, from: Data(old.utf8)).value
        var expected = Context(name: "old", type: .slurm)
        expected.slurm.host = "h"
        expected.gang.nodes = 2  // Slurm's own key then
        #expect(decoded == expected)
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode(StoredContext.self, from: Data(#"{"name": "x", "type": "mainframe"}"#.utf8))
        }
    }

    @Test func datesKeepMillisecondsExactly() {
        for seconds in [1_800_000_000.123, 1_800_000_000.999_6, 0.001, 1_700_000_000.5] {
            let date = HistoryDate.rounded(Date(timeIntervalSince1970: seconds))
            #expect(HistoryDate.date(HistoryDate.text(date).databaseValue) == date)
        }
        #expect(HistoryDate.text(Date(timeIntervalSince1970: 1_800_000_000.123)) == "2027-01-15 08:00:00.123")
        // Python's `datetime` writes microseconds.
        #expect(
            HistoryDate.date("2027-01-15 08:00:00.123456".databaseValue)
                == Date(timeIntervalSince1970: 1_800_000_000.123))
    }
}
