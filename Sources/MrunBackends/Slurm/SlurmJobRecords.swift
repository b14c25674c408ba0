import Foundation
import MrunSupport
import MrunConfig
import MrunTemplates
import MrunPlan
import MrunHistory
import KubernetesAPI

/// What mrun remembers of a job it submitted, so `logs` finds the output file after Slurm has
/// forgotten the job: `$MRUN_HOME/jobs/CONTEXT/ID.json`.
public struct SlurmJobRecord: Codable, Sendable, Equatable {
    public var id: String
    public var name: String
    public var project: String
    public var host: String
    /// Absolute paths on the cluster.
    public var jobDirectory: String
    public var output: String
    public var submitted: Date
}

public struct SlurmJobRecords: Sendable {
    public var directory: URL

    public init(store: ConfigStore, context: String) {
        directory = store.home.appendingPathComponent("jobs").appendingPathComponent(context)
    }

    public func save(_ record: SlurmJobRecord) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        let text = String(decoding: try encoder.encode(record), as: UTF8.self) + "\n"
        try AtomicFile.write(text, to: directory.appendingPathComponent("\(record.id).json"), mode: 0o600)
    }

    /// The record of job `id`, or nil when there is none or it cannot be read. A task of a job
    /// array (`123_4`, a sweep's point) has its array's record, with its own output file.
    public func load(_ id: String) -> SlurmJobRecord? {
        guard SlurmOutput.isJobID(id) else { return nil }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        if let data = try? Data(contentsOf: directory.appendingPathComponent("\(id).json")) {
            return try? decoder.decode(SlurmJobRecord.self, from: data)
        }
        guard let underscore = id.firstIndex(of: "_"),
            let data = try? Data(contentsOf: directory.appendingPathComponent("\(id[..<underscore]).json")),
            var record = try? decoder.decode(SlurmJobRecord.self, from: data)
        else { return nil }
        record.id = id
        record.output = SlurmOutput.expand(record.output, job: SlurmJob(id: id, name: record.name, slurmState: ""))
        return record
    }
}
