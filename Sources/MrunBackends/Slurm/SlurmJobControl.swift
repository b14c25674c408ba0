import MrunSupport
import MrunConfig
import MrunTemplates
import MrunPlan
import MrunHistory
import KubernetesAPI

/// Jobs on a Slurm context, by their job ids (`123`, or `123_4` for a sweep's point): those the
/// history recorded at submission, and those it does not hold, over the context's shared ssh
/// connection.
public struct SlurmJobControl: JobControl {
    public static let jobIDKind: JobIDKind? = JobIDKind(system: "Slurm") { SlurmOutput.isJobID($0) }

    public var jobs: SlurmJobs

    public init(jobs: SlurmJobs) {
        self.jobs = jobs
    }

    public func refresh(_ launches: [LaunchRecord]) async throws -> [String: JobStatus] {
        let open = launches.filter { !$0.state.isFinal && $0.jobId != nil }
        guard !open.isEmpty else { return [:] }
        let found = try await jobs.jobs(open.compactMap(\.jobId))
        var statuses: [String: JobStatus] = [:]
        for launch in open {
            guard let id = launch.jobId else { continue }
            statuses[launch.id] = found[id].map(Self.status) ?? Self.untraced(id, host: jobs.session.name)
        }
        return statuses
    }

    public func status(_ launch: LaunchRecord) async throws -> JobStatus {
        let id = try jobID(launch)
        do {
            return Self.status(try await jobs.status(id))
        } catch SlurmError.unknownJob {
            // A task of an array Slurm forgot, on a cluster without slurmdbd: ask as list does.
            guard var job = try await jobs.jobs([id])[id] else { return Self.untraced(id, host: jobs.session.name) }
            if job.output == nil { job.output = jobs.records.load(id)?.output }
            return Self.status(job)
        }
    }

    public func logs(_ launch: LaunchRecord, follow: Bool, sink: any OutputSink) async throws -> JobStatus {
        try await logs(jobID: try jobID(launch), follow: follow, sink: sink)
    }

    public func cancel(_ launch: LaunchRecord) async throws -> (before: JobStatus, after: JobStatus) {
        try await cancel(jobID: try jobID(launch))
    }

    // MARK: - Jobs by id, whether or not the history holds them

    /// Throws ``SlurmError/unknownJob`` when Slurm has no trace of the job.
    public func status(jobID: String) async throws -> JobStatus {
        Self.status(try await jobs.status(jobID))
    }

    public func logs(jobID: String, follow: Bool, sink: any OutputSink) async throws -> JobStatus {
        Self.status(try await jobs.logs(jobID, follow: follow, sink: sink))
    }

    public func cancel(jobID: String) async throws -> (before: JobStatus, after: JobStatus) {
        let (before, after) = try await jobs.cancel(jobID)
        return (Self.status(before), Self.status(after))
    }

    /// Every job of the user's that Slurm or its accounting lists, mrun's names or not.
    public func backendJobs() async throws -> BackendJobList? {
        SlurmJob.backendJobs(try await jobs.list(all: true))
    }

    func jobID(_ launch: LaunchRecord) throws -> String {
        guard let id = launch.jobId else { throw JobControlError.noJob(launch: launch.id, name: launch.experimentName) }
        return id
    }

    /// The history's view of a Slurm job: a signal that ended it is its exit status, as a shell shows it.
    public static func status(_ job: SlurmJob) -> JobStatus {
        var code: Int32?
        if job.state.isFinal {
            if let signal = job.signal, job.exitCode ?? 0 == 0 {
                code = Int32(clamping: 128 + signal)
            } else {
                code = job.exitCode.map { Int32(clamping: $0) }
            }
        }
        return JobStatus(
            state: job.state, exitCode: code, summary: job.stateDescription, details: job.statusText, name: job.name)
    }

    static func untraced(_ id: String, host: String) -> JobStatus {
        JobStatus(
            state: .unknown, exitCode: nil, summary: "UNKNOWN (no trace of job \(id) on \(host))",
            details: "Job        \(id)\nState      UNKNOWN: Slurm on \(host) has no trace of it any more\n")
    }
}
