import Foundation
import GRDB
import MrunSupport
import MrunConfig
import MrunTemplates
import MrunPlan

/// Every launch made from this machine, in `$MRUN_HOME/history.sqlite`.
///
/// SQLite in WAL mode, through a GRDB `DatabasePool`, with a busy timeout: any number of mrun
/// processes (a sweep launching in parallel, a `status` poll beside a `run`) read and write at once;
/// writers queue for a moment instead of failing. The file is only ever created when missing,
/// migrated when older, and refused, untouched, when corrupt, foreign or newer than this mrun.
public final class HistoryStore: Sendable {
    public static let fileName = "history.sqlite"
    /// How long a write waits for other processes' writes before giving up.
    public static let busyTimeout: TimeInterval = 30

    public let file: URL
    let pool: DatabasePool

    /// The history of `$MRUN_HOME` (``ConfigStore/home``).
    public convenience init(home: URL) throws {
        try self.init(file: home.appendingPathComponent(Self.fileName))
    }

    public init(file: URL) throws {
        self.file = file
        pool = try HistoryOpener(file: file, busyTimeout: Self.busyTimeout).openPool()
    }

    // MARK: Writing

    /// Stores a new launch and its file manifest (shared with earlier launches of the same code).
    public func record(_ launch: LaunchRecord) throws {
        try record([launch])
    }

    /// Sets a launch's state and exit code (nil clears it), and its job id when given.
    public func update(
        id: String, state: JobState, exitCode: Int32? = nil, jobId: String? = nil, now: Date = Date()
    ) throws {
        try write { db in try HistoryWrites.end(id, state: state, exitCode: exitCode, jobId: jobId, now: now, db) }
    }

    /// Records the image digest once the registry reported it.
    public func update(id: String, imageDigest: String) throws {
        try access {
            try pool.write { db in
                let changed = try LaunchRecord.filter(key: id).updateAll(
                    db, Column(LaunchRecord.CodingKeys.imageDigest).set(to: imageDigest))
                if changed == 0 { throw HistoryError.notFound(reference: id) }
            }
        }
    }

    // MARK: Reading

    /// Launches, newest first, optionally only those of one context, sweep or state.
    public func list(
        context: String? = nil, sweep: String? = nil, state: JobState? = nil, limit: Int? = nil
    ) throws -> [LaunchRecord] {
        try read { db in
            var request = LaunchRecord.all()
            if let context { request = request.filter(LaunchRecord.Columns.contextName == context) }
            if let sweep { request = request.filter(LaunchRecord.Columns.sweepId == sweep) }
            if let state { request = request.filter(LaunchRecord.Columns.state == state) }
            request = request.order(LaunchRecord.Columns.created.desc, LaunchRecord.Columns.id)
            if let limit { request = request.limit(limit) }
            return try Self.withFiles(try request.fetchAll(db), db)
        }
    }

    /// The launch with this id, if any.
    public func launch(id: String) throws -> LaunchRecord? {
        try read { db in try LaunchRecord.fetchOne(db, key: id).map { try Self.withFiles([$0], db)[0] } }
    }

    /// Fills each launch's ``LaunchRecord/files`` from the manifests, each read once.
    static func withFiles(_ launches: [LaunchRecord], _ db: Database) throws -> [LaunchRecord] {
        let hashes = Set(launches.map(\.codeHash))
        var manifests: [String: [String: String]] = [:]
        for manifest in try CodeManifest.fetchAll(db, keys: Array(hashes)) {
            manifests[manifest.codeHash] = manifest.files
        }
        return launches.map { launch in
            var launch = launch
            launch.files = manifests[launch.codeHash] ?? [:]
            return launch
        }
    }

    // MARK: Errors

    func read<T>(_ body: (Database) throws -> T) throws -> T {
        try access { try pool.read(body) }
    }

    /// One write transaction, waited for on this thread (commands, tests).
    func write<T>(_ updates: (Database) throws -> T) throws -> T {
        try access { try pool.write(updates) }
    }

    /// One write transaction without holding a thread of the cooperative pool while it waits for
    /// SQLite (another process's write, the busy timeout): GRDB runs it on its writer queue and
    /// this task suspends, so the other points of a sweep go on meanwhile.
    func write<T: Sendable>(_ updates: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do {
            return try await pool.write(updates)
        } catch let error as DatabaseError {
            throw HistoryError(error, file: file.path)
        }
    }

    /// Runs `body`, turning SQLite's errors into one-line ``HistoryError``s naming the file.
    func access<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as DatabaseError {
            throw HistoryError(error, file: file.path)
        }
    }
}

extension HistoryError {
    init(_ error: DatabaseError, file: String) {
        switch error.resultCode {
        case .SQLITE_CORRUPT, .SQLITE_NOTADB:
            self = .corrupt(file: file, detail: error.message ?? "\(error.resultCode)")
        case .SQLITE_BUSY, .SQLITE_LOCKED:
            self = .busy(file: file, seconds: Int(HistoryStore.busyTimeout))
        default:
            self = .unavailable(file: file, detail: error.message ?? "\(error.resultCode)")
        }
    }
}
