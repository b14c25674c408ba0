import Foundation
import GRDB
import MrunSupport
import MrunConfig
import MrunTemplates
import MrunPlan

/// Opens the history file safely: creates it only when missing, refuses it untouched when it is not
/// SQLite, malformed, another program's or newer than this mrun, and migrates it otherwise.
struct HistoryOpener {
    let file: URL
    let busyTimeout: TimeInterval

    /// Serializes migrations across processes. GRDB's migrator reads which migrations are applied
    /// before it starts a transaction, so two mrun processes opening a new file at once would both
    /// try to create the tables.
    var lockFile: URL { URL(fileURLWithPath: file.path + ".lock") }

    var configuration: Configuration {
        var configuration = Configuration()
        configuration.busyMode = .timeout(busyTimeout)
        configuration.label = "mrun.history"
        return configuration
    }

    /// Opens (and migrates) the pool. SQLite answers BUSY at once, without waiting for the busy
    /// timeout, in a few moments of a new file's life (another process switching it to WAL mode or
    /// recovering it): the whole open is tried again until the timeout has passed.
    func openPool() throws -> DatabasePool {
        let deadline = Date().addingTimeInterval(busyTimeout)
        var pause: UInt32 = 10_000
        while true {
            do {
                return try openPoolOnce()
            } catch HistoryError.busy where Date() < deadline {
                usleep(pause + UInt32.random(in: 0..<pause))
                pause = min(pause * 2, 200_000)
            }
        }
    }

    private func openPoolOnce() throws -> DatabasePool {
        try createIfMissing()
        try checkHeader()
        // Inspect through a plain queue first: a DatabasePool writes as it opens (it switches the
        // file to WAL mode and makes sure a WAL file exists), which a newer mrun's file must not see.
        let status = try mapping {
            let queue = try DatabaseQueue(path: file.path, configuration: configuration)
            defer { try? queue.close() }
            return try queue.read(HistorySchema.status)
        }
        try refuse(status)
        let pool = try mapping { try makePool() }
        if status == .needsMigration {
            try FileLock.withLock(lockFile) {
                try mapping {
                    // Another process may have migrated the file, or a newer mrun upgraded it, while
                    // this one waited for the lock.
                    let current = try pool.read(HistorySchema.status)
                    try refuse(current)
                    if current == .needsMigration {
                        try HistorySchema.migrator(home: file.deletingLastPathComponent()).migrate(pool)
                    }
                }
            }
        }
        return pool
    }

    /// GRDB checks the WAL file's size as it opens a pool. When the last connection of another
    /// process closes just then, SQLite deletes that file between GRDB's check that it exists and
    /// its reading of its size, and the open fails with "no such file": opening again succeeds.
    private func makePool() throws -> DatabasePool {
        var attempts = 0
        while true {
            do {
                return try DatabasePool(path: file.path, configuration: configuration)
            } catch let error as CocoaError
                where error.code == .fileReadNoSuchFile && error.filePath?.hasSuffix("-wal") == true
                && attempts < 20
            {
                attempts += 1
                usleep(5_000)
            }
        }
    }

    private func refuse(_ status: HistorySchema.Status) throws {
        switch status {
        case .newer: throw HistoryError.newerSchema(file: file.path)
        case .foreign: throw HistoryError.foreign(file: file.path)
        case .current, .needsMigration: break
        }
    }

    /// A new, empty, private file (the history names contexts, users and paths). SQLite gives its
    /// `-wal` and `-shm` files the same mode. An existing file is left as it is.
    private func createIfMissing() throws {
        do {
            try FileManager.default.createDirectory(
                at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        } catch {
            throw HistoryError.unavailable(file: file.path, detail: error.localizedDescription)
        }
        let descriptor = open(file.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        if descriptor >= 0 {
            close(descriptor)
        } else if errno != EEXIST {
            throw HistoryError.unavailable(file: file.path, detail: String(cString: strerror(errno)))
        }
    }

    static let header = Array("SQLite format 3\0".utf8)

    /// Rejects a file that is not SQLite before SQLite sees it: an empty file is a new database,
    /// anything else must start with SQLite's 16-byte header and hold at least its 100-byte page 1
    /// header.
    private func checkHeader() throws {
        let handle: FileHandle
        do {
            handle = try FileHandle(forReadingFrom: file)
        } catch {
            throw HistoryError.unavailable(file: file.path, detail: error.localizedDescription)
        }
        defer { try? handle.close() }
        let start: Data
        do {
            start = try handle.read(upToCount: 100) ?? Data()
        } catch {
            throw HistoryError.unavailable(file: file.path, detail: error.localizedDescription)
        }
        if start.isEmpty { return }
        guard start.count == 100, Array(start.prefix(Self.header.count)) == Self.header else {
            throw HistoryError.corrupt(file: file.path, detail: "it does not start with the SQLite header")
        }
    }

    private func mapping<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as HistoryError {
            throw error
        } catch let error as DatabaseError {
            throw HistoryError(error, file: file.path)
        } catch {
            throw HistoryError.unavailable(file: file.path, detail: "\(error)")
        }
    }
}
