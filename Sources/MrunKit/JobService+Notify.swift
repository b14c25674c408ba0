import Foundation
import MrunSupport
import MrunConfig
import MrunTemplates
import MrunPlan
import MrunHistory
import KubernetesAPI
import MrunBackends

/// Notifications sent from this machine: when a local launch ends, and with `mrun wait --notify`
/// for clusters whose nodes cannot reach the URL (`notify_from: here`).
extension JobService {
    /// Tells the targets of each ended launch's context (and `extra`) that it ended, as their
    /// `notify_on` asks: a sweep's points once for the whole sweep, with counts by state, unless
    /// `each`. Returns the warnings of targets that could not be told.
    /// With `context`, its targets and events are used for every launch (the plan's context of a
    /// launch that ended here, `--notify` targets included) instead of each launch's context file.
    public func notifyEnded(
        _ launches: [LaunchRecord], each: Bool = false, extra: [NotifyTarget] = [], context planned: Context? = nil
    ) async -> [String] {
        let notifier = Notifier(runner: environment.runner)
        var warnings: [String] = []
        let ended = launches.filter(\.state.isFinal)
        let sweeps = each ? [:] : Dictionary(grouping: ended.filter { $0.sweepId != nil }, by: { $0.sweepId ?? "" })
        for launch in ended where each || launch.sweepId == nil {
            let context = planned ?? self.context(of: launch)
            guard wanted(launch.state, events: context.notifyEvents) else { continue }
            let targets = context.notifyTargets + extra
            guard !targets.isEmpty else { continue }
            let tail = await logTail(of: launch)
            let duration = max(0, launch.updated.timeIntervalSince(launch.created))
            warnings += await notifier.send(
                LaunchNotification(
                    event: eventOf(launch.state), launch: launch, durationSeconds: duration, logTail: tail),
                to: targets)
        }
        for (sweep, points) in sweeps.sorted(by: { $0.key < $1.key }) {
            guard let first = points.first else { continue }
            let context = planned ?? self.context(of: first)
            let failed = points.contains { $0.state != .completed }
            guard context.notifyEvents.contains(.end) || (failed && context.notifyEvents.contains(.fail)) else {
                continue
            }
            let targets = context.notifyTargets + extra
            guard !targets.isEmpty else { continue }
            let name = ((try? history.sweep(sweep)) ?? nil)?.name ?? sweep
            warnings += await notifier.send(
                LaunchNotification(sweep: sweep, name: name, context: first.contextName, launches: points),
                to: targets)
        }
        return warnings
    }

    func wanted(_ state: JobState, events: Set<NotifyTarget.Event>) -> Bool {
        events.contains(.end) || (state != .completed && events.contains(.fail))
    }

    func eventOf(_ state: JobState) -> NotifyTarget.Event { state == .completed ? .end : .fail }

    /// The last 20 lines of the launch's output: its saved copy, else what its backend has.
    func logTail(of launch: LaunchRecord) async -> [String] {
        var output = await savedLog(of: launch)
        if output == nil, let control = try? control(for: launch) {
            let capture = CollectingSink()
            if (try? await control.logs(launch, follow: false, sink: capture)) != nil { output = await capture.output }
        }
        let text = String(decoding: Self.tail(output ?? [], lines: 20), as: UTF8.self)
        return text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init).filter { !$0.isEmpty }
    }
}
