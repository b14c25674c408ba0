import Foundation
import GRDB

/// A job mrun submitted to a Slurm context, remembered so `logs` finds its output file after Slurm
/// has forgotten the job: a row of the `slurmJob` table, keyed by context and job id.
///
/// Older mrun kept these as JSON files, `$MRUN_HOME/jobs/CONTEXT/ID.json`; the migration that made
/// the table imports them (``importFiles(home:_:)``).
public struct SlurmJobRecord: Codable, Sendable, Equatable {
    /// The context's name.
    public var context: String
    /// The job id, `123` (a job array's id for a sweep).
    public var id: String
    public var name: String
    public var project: String
    public var host: String
    /// Absolute paths on the cluster.
    public var jobDirectory: String
    public var output: String
    /// Stored to the millisecond.
    public var submitted: Date

    public init(
        context: String, id: String, name: String, project: String, host: String, jobDirectory: String,
        output: String, submitted: Date
    ) {
        self.context = context
        self.id = id
        self.name = name
        self.project = project
        self.host = host
        self.jobDirectory = jobDirectory
        self.output = output
        self.submitted = HistoryDate.rounded(submitted)
    }
}

extension SlurmJobRecord: FetchableRecord, PersistableRecord {
    public static let databaseTableName = "slurmJob"

    public static func databaseDateEncodingStrategy(for column: String) -> DatabaseDateEncodingStrategy {
        .custom { HistoryDate.text($0) }
    }

    public static func databaseDateDecodingStrategy(for column: String) -> DatabaseDateDecodingStrategy {
        .custom { HistoryDate.date($0) }
    }

    /// Where older mrun kept the records: one folder per context.
    static func filesDirectory(home: URL) -> URL {
        home.appendingPathComponent("jobs")
    }

    /// Imports the JSON records older mrun kept under `home`, inside the migration's transaction:
    /// all of them or none. A row already in the table is kept. A file that cannot be read or
    /// decoded is left out, as older mrun passed over it. The files stay where they are.
    static func importFiles(home: URL, _ db: Database) throws {
        for record in files(under: filesDirectory(home: home)) {
            try record.insert(db, onConflict: .ignore)
        }
    }

    /// The records of `directory/CONTEXT/ID.json`; the id is the file's name, by which older mrun
    /// looked a job up.
    static func files(under directory: URL) -> [SlurmJobRecord] {
        let manager = FileManager.default
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        let folders = (try? manager.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil)) ?? []
        var records: [SlurmJobRecord] = []
        for folder in folders.sorted(by: { $0.path < $1.path }) {
            let files = (try? manager.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil)) ?? []
            for file in files.sorted(by: { $0.path < $1.path }) where file.pathExtension == "json" {
                guard let data = try? Data(contentsOf: file), let old = try? decoder.decode(JobFile.self, from: data)
                else { continue }
                records.append(
                    SlurmJobRecord(
                        context: folder.lastPathComponent, id: file.deletingPathExtension().lastPathComponent,
                        name: old.name, project: old.project, host: old.host, jobDirectory: old.jobDirectory,
                        output: old.output, submitted: old.submitted))
            }
        }
        return records
    }

    /// A record file as older mrun wrote it; its context was the folder's name.
    private struct JobFile: Decodable {
        var name: String
        var project: String
        var host: String
        var jobDirectory: String
        var output: String
        var submitted: Date
    }
}

extension HistoryStore {
    /// Remembers a submitted Slurm job; a record of the same id on the context is replaced (Slurm
    /// counts ids anew when its state is reset).
    public func record(_ job: SlurmJobRecord) throws {
        try write { db in try job.insert(db, onConflict: .replace) }
    }

    /// The same from a backend's task, which waits for SQLite suspended (see ``LaunchRecorder``).
    public func recordSubmitted(_ job: SlurmJobRecord) async throws {
        try await write { db in try job.insert(db, onConflict: .replace) }
    }

    /// The record of Slurm job `id` submitted on `context`, if mrun submitted it from here.
    public func slurmJob(id: String, context: String) throws -> SlurmJobRecord? {
        try read { db in try SlurmJobRecord.fetchOne(db, key: ["context": context, "id": id]) }
    }
}
