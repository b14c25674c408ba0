import Foundation
import GRDB
import MrunSupport
import MrunConfig
import MrunTemplates
import MrunPlan

/// The history's tables, one `DatabaseMigrator` migration per schema version.
///
/// Migrations are append-only: a released one is never edited, a change is a new migration. Each
/// also sets `PRAGMA user_version` to its number, a second marker a newer mrun bumps that tools
/// other than GRDB (and a mrun that finds its migration table damaged) can read.
enum HistorySchema {
    /// The migrations, for reading which a database has.
    static var migrator: DatabaseMigrator { migrator(home: nil) }

    /// The migrations of the history in `home` (`$MRUN_HOME`), whose files from older mrun the
    /// migrations import; nil imports none.
    static func migrator(home: URL?) -> DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.create(table: CodeManifest.databaseTableName) { table in
                table.primaryKey("codeHash", .text)
                table.column("files", .jsonText).notNull()
            }
            try db.create(table: LaunchRecord.databaseTableName) { table in
                table.primaryKey("id", .text)
                table.column("experimentName", .text).notNull().indexed()
                table.column("project", .text).notNull()
                table.column("created", .datetime).notNull().indexed()
                table.column("user", .text).notNull()
                table.column("contextName", .text).notNull().indexed()
                table.column("context", .jsonText).notNull()
                table.column("backend", .text).notNull()
                table.column("jobId", .text).indexed()
                table.column("runDirectory", .text)
                table.column("imageTag", .text)
                table.column("imageDigest", .text)
                table.column("contentHash", .text).notNull()
                table.column("codeHash", .text).notNull().indexed()
                    .references(CodeManifest.databaseTableName, onDelete: .restrict)
                table.column("gitCommit", .text)
                table.column("gitDirty", .boolean)
                table.column("script", .text).notNull()
                table.column("args", .jsonText).notNull()
                table.column("sweepId", .text).indexed()
                table.column("parameters", .jsonText).notNull()
                table.column("tags", .jsonText).notNull()
                table.column("state", .text).notNull()
                table.column("exitCode", .integer)
                table.column("updated", .datetime).notNull()
            }
            try db.execute(sql: "PRAGMA user_version = 1")
        }
        // What rerun and resume need: each launch's inputs and its place in its sweep, and each
        // sweep's expanded points, recorded before the first of them is launched.
        migrator.registerMigration("v2") { db in
            try db.alter(table: LaunchRecord.databaseTableName) { table in
                table.add(column: "sweepIndex", .integer)
                table.add(column: "inputs", .jsonText)
            }
            try db.create(table: SweepRecord.databaseTableName) { table in
                table.primaryKey("id", .text)
                table.column("name", .text).notNull().indexed()
                table.column("created", .datetime).notNull()
                table.column("user", .text).notNull()
                table.column("contextName", .text).notNull()
                table.column("context", .jsonText).notNull()
                table.column("inputs", .jsonText).notNull()
                table.column("points", .jsonText).notNull()
                table.column("totalPoints", .integer).notNull()
                table.column("seed", .text)
                table.column("maxParallel", .integer)
                table.column("parallel", .integer).notNull()
            }
            try db.execute(sql: "PRAGMA user_version = 2")
        }
        // The Slurm jobs submitted from here, which `logs` needs once Slurm has forgotten them:
        // until now JSON files beside the history, imported in this migration's transaction.
        migrator.registerMigration("v3") { db in
            try db.create(table: SlurmJobRecord.databaseTableName) { table in
                table.column("context", .text).notNull()
                table.column("id", .text).notNull()
                table.column("name", .text).notNull()
                table.column("project", .text).notNull()
                table.column("host", .text).notNull()
                table.column("jobDirectory", .text).notNull()
                table.column("output", .text).notNull()
                table.column("submitted", .datetime).notNull()
                table.primaryKey(["context", "id"])
            }
            if let home { try SlurmJobRecord.importFiles(home: home, db) }
            try db.execute(sql: "PRAGMA user_version = 3")
        }
        // Launches whose traces on the backend `mrun rm` removed: kept in the history, hidden
        // from `list`.
        migrator.registerMigration("v4") { db in
            try db.create(table: "removal") { table in
                table.column("launchId", .text).notNull().primaryKey()
                    .references(LaunchRecord.databaseTableName, column: "id", onDelete: .cascade)
                table.column("removed", .datetime).notNull()
            }
            try db.execute(sql: "PRAGMA user_version = 4")
        }
        // Where launches on ssh contexts run: the host, GPUs and process of each.
        migrator.registerMigration("v5") { db in
            try db.create(table: SSHLaunchRecord.databaseTableName) { table in
                table.column("launchId", .text).notNull().primaryKey()
                table.column("host", .text).notNull()
                table.column("gpus", .text).notNull()
                table.column("pid", .integer)
                table.column("runDirectory", .text).notNull()
            }
            try db.execute(sql: "PRAGMA user_version = 5")
        }
        return migrator
    }

    /// The `user_version` of the newest migration above.
    static let version = 5

    /// What a database holds, read before anything is written to it.
    enum Status: Equatable {
        case current
        case needsMigration
        case newer
        case foreign
    }

    static func status(_ db: Database) throws -> Status {
        let migrator = self.migrator
        let userVersion = try Int.fetchOne(db, sql: "PRAGMA user_version") ?? 0
        if userVersion > version { return .newer }
        if try db.tableExists("grdb_migrations") {
            if try migrator.hasBeenSuperseded(db) { return .newer }
            return try migrator.hasCompletedMigrations(db) ? .current : .needsMigration
        }
        // No migration table: an empty file (new history) or another program's database.
        let tables = try Int.fetchOne(db, sql: "SELECT count(*) FROM sqlite_master WHERE type = 'table'") ?? 0
        return tables == 0 && userVersion == 0 ? .needsMigration : .foreign
    }
}
