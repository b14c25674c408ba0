import Foundation
import MrunSupport
import MrunConfig
import MrunTemplates
import MrunPlan
import MrunHistory
import KubernetesAPI

/// The jobs mrun submitted to one Slurm context, as the history remembers them
/// (``SlurmJobRecord``), so `logs` finds a job's output file after Slurm has forgotten the job.
public struct SlurmJobRecords: Sendable {
    public var context: String
    /// Opened when a record is first needed: following a job by id needs none until Slurm forgot it.
    var history: OpenHistory

    public init(context: String, history: @escaping OpenHistory) {
        self.context = context
        self.history = history
    }

    public func save(_ record: SlurmJobRecord) throws {
        try history().record(record)
    }

    /// The record of job `id`, or nil when there is none or the history cannot be read. A task of a
    /// job array (`123_4`, a sweep's point) has its array's record, with its own output file.
    public func load(_ id: String) -> SlurmJobRecord? {
        guard SlurmOutput.isJobID(id), let history = try? history() else { return nil }
        if let record = try? history.slurmJob(id: id, context: context) { return record }
        guard let underscore = id.firstIndex(of: "_"),
            var record = try? history.slurmJob(id: String(id[..<underscore]), context: context)
        else { return nil }
        record.id = id
        record.output = SlurmOutput.expand(record.output, job: SlurmJob(id: id, name: record.name, slurmState: ""))
        return record
    }
}
