import Foundation
import MrunSupport
import MrunConfig
import MrunTemplates
import MrunPlan

/// The launches a backend is about to make (one plan, or a sweep's points), recorded together
/// before any starts, and what the backend learns of each afterwards. Every backend records
/// through it, so a launch is in the history before it runs, and a launch that never started is
/// recorded as failed without a job id (which `mrun resume` launches again).
///
/// Without a recorder, or when recording failed, ``records`` is empty and every call does nothing:
/// a history failure never stops an experiment (see ``LaunchRecorder``).
public struct RecordedLaunches: Sendable {
    /// What was recorded, in the order of the plans given.
    public let records: [LaunchRecord]
    private let recorder: LaunchRecorder?

    /// Records the launches of `plans` (a sweep's points when `points` is given), changed by
    /// `adjust` first (e.g. with the pushed image's digest). The job id is set once the job exists.
    public static func record(
        _ plans: [ExperimentPlan], points: [SweepPoint]? = nil, sweepId: String? = nil,
        by recorder: LaunchRecorder?, adjust: (inout LaunchRecord) -> Void = { _ in }
    ) async -> RecordedLaunches {
        guard let recorder else { return RecordedLaunches(records: [], recorder: nil) }
        let records = plans.indices.map { offset in
            var record = recorder.launch(plans[offset], sweepId: sweepId, point: points?[offset])
            record.jobId = nil
            adjust(&record)
            return record
        }
        let recorded = await recorder.record(records)
        return RecordedLaunches(records: recorded ? records : [], recorder: recorded ? recorder : nil)
    }

    /// Records `plans` as launched and failed at once: they failed before any of their jobs existed
    /// (at the cluster, the image or the code's copy).
    public static func recordFailed(
        _ plans: [ExperimentPlan], points: [SweepPoint]? = nil, sweepId: String? = nil, by recorder: LaunchRecorder?
    ) async {
        await record(plans, points: points, sweepId: sweepId, by: recorder).failed()
    }

    /// Launches recorded in parts, as one, in the order of the parts; nothing when any part was not
    /// recorded (its recorder then records nothing more).
    static func joined(_ parts: [RecordedLaunches]) -> RecordedLaunches {
        guard let recorder = parts.first?.recorder, parts.allSatisfy({ $0.recorder != nil }) else {
            return RecordedLaunches(records: [], recorder: nil)
        }
        return RecordedLaunches(records: parts.flatMap(\.records), recorder: recorder)
    }

    /// The launch id of the first (a single plan's) launch, when it was recorded.
    public var firstID: String? { records.first?.id }

    /// The variable that tells a job its launch id, for its own messages (the notifier):
    /// `MRUN_LAUNCH_ID` for one launch, `MRUN_LAUNCH_IDS` (`INDEX:ID ...`) for the points of a
    /// sweep that run as one job (a Slurm array, an Indexed Job); nil when nothing was recorded.
    public func launchVariable(sweep: Bool) -> EnvironmentVariable? {
        guard !records.isEmpty else { return nil }
        guard sweep else { return EnvironmentVariable(name: "MRUN_LAUNCH_ID", value: records[0].id) }
        let pairs = records.enumerated().map { "\($0.element.sweepIndex ?? $0.offset):\($0.element.id)" }
        return EnvironmentVariable(name: "MRUN_LAUNCH_IDS", value: pairs.joined(separator: " "))
    }

    /// The backend's job ids, one per recorded launch in order (a Job name, a Slurm job or array
    /// task id, a process id), and the state they are in.
    public func started(jobIds: [String], state: JobState) async {
        await recorder?.started(zip(records, jobIds).map { ($0.id, $1) }, state: state)
    }

    /// Job ids for the launches at `offsets` (positions in ``records``) only; with the image's
    /// digest, when the launches were recorded before it was known.
    public func started(_ jobIds: [Int: String], state: JobState, imageDigest: String? = nil) async {
        let jobs = jobIds.sorted { $0.key < $1.key }.filter { records.indices.contains($0.key) }
        await recorder?.started(jobs.map { (records[$0.key].id, $0.value) }, state: state, imageDigest: imageDigest)
    }

    /// Every launch, or those at `offsets`, failed without a job.
    public func failed(at offsets: [Int]? = nil) async {
        let ids =
            offsets.map { $0.sorted().filter(records.indices.contains).map { records[$0].id } } ?? records.map(\.id)
        await recorder?.finished(ids, state: .failed, exitCode: nil)
    }

    /// How the launches ended (a local run, which mrun waited for).
    public func finished(state: JobState, exitCode: Int32?) async {
        await recorder?.finished(records.map(\.id), state: state, exitCode: exitCode)
    }
}
