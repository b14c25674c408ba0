import Foundation
import MrunSupport
import MrunPlan

/// A sweep's launches recorded a few at a time, the first few at once, so that the backend can
/// start the first points' jobs while the rest are written: each point's job still starts only
/// after its launch is in the history. Recording the 200 points of a sweep in one transaction
/// kept every Job waiting for the slowest part of the history's write.
///
/// Each part is one transaction, written after the one before it. When one fails, the recorder
/// records nothing more (see ``LaunchRecorder``), and the launches go on unrecorded.
public struct ChunkedLaunches: Sendable {
    private let parts: [Task<RecordedLaunches, Never>]
    /// Where each part starts, in the order of the plans given.
    private let starts: [Int]

    /// Records `plans` (a sweep's points), the first `first` of them at once, then parts twice as
    /// big as the one before.
    public static func record(
        _ plans: [ExperimentPlan], points: [SweepPoint]? = nil, sweepId: String? = nil,
        by recorder: LaunchRecorder?, first: Int = 16
    ) -> ChunkedLaunches {
        var starts: [Int] = []
        var size = max(first, 1)
        var start = 0
        while start < plans.count {
            starts.append(start)
            start += size
            size *= 2
        }
        var parts: [Task<RecordedLaunches, Never>] = []
        for (number, start) in starts.enumerated() {
            let end = number + 1 < starts.count ? starts[number + 1] : plans.count
            let before = parts.last
            let part = Array(plans[start..<end])
            let partPoints = points.map { Array($0.dropFirst(start).prefix(end - start)) }
            parts.append(
                Task {
                    _ = await before?.value
                    return await RecordedLaunches.record(part, points: partPoints, sweepId: sweepId, by: recorder)
                })
        }
        return ChunkedLaunches(parts: parts, starts: starts)
    }

    /// The launch id of the plan at `offset` once it is recorded; nil when it was not.
    public func id(at offset: Int) async -> String? {
        guard let number = starts.lastIndex(where: { $0 <= offset }) else { return nil }
        let records = await parts[number].value.records
        let position = offset - starts[number]
        return records.indices.contains(position) ? records[position].id : nil
    }

    /// Every part, once all are written: one ``RecordedLaunches`` in the order of the plans, with
    /// nothing in it when any part was not recorded.
    public func all() async -> RecordedLaunches {
        var parts: [RecordedLaunches] = []
        for part in self.parts { parts.append(await part.value) }
        return RecordedLaunches.joined(parts)
    }
}
