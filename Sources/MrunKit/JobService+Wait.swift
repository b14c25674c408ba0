import Foundation
import MrunSupport
import MrunConfig
import MrunTemplates
import MrunPlan
import MrunHistory
import KubernetesAPI
import MrunBackends

extension JobService {
    /// Blocks until every launch has ended, asking the backends every `pollInterval` (one call per
    /// context, as ``refresh(_:)``). Calls `ended` for each launch as it ends; returns them all, as
    /// they ended, in the order given. A launch no backend has a trace of any more (`unknown`)
    /// counts as ended after `patience` checks in a row. Warnings (a context that cannot be
    /// asked) go to `warn`, each once.
    public func wait(
        for launches: [LaunchRecord], pollInterval: Duration = .seconds(1), patience: Int = 5,
        warn: @Sendable (String) async -> Void, ended: @Sendable (LaunchRecord) async -> Void
    ) async throws -> [LaunchRecord] {
        var finished: [String: LaunchRecord] = [:]
        var unknown: [String: Int] = [:]
        var warned: Set<String> = []
        while true {
            let pending = try launches.filter { finished[$0.id] == nil }.map { try history.launch(id: $0.id) ?? $0 }
            let (current, warnings) = await refresh(pending)
            for warning in warnings where warned.insert(warning).inserted { await warn(warning) }
            for launch in current {
                if launch.state == .unknown { unknown[launch.id, default: 0] += 1 } else { unknown[launch.id] = nil }
                if launch.state.isFinal || unknown[launch.id, default: 0] >= patience {
                    finished[launch.id] = launch
                    await ended(launch)
                }
            }
            if finished.count == launches.count { return launches.compactMap { finished[$0.id] } }
            try await Task.sleep(for: pollInterval)
        }
    }

    /// Cancels the launches that have not ended, at most ``concurrency`` at once, each waiting
    /// until its backend reports it ended; records their states. Results in the order given.
    /// Launches a backend runs as one job (the points of a sweep run as one Indexed Job) are
    /// cancelled together, by their control's ``JobControl/cancelTogether(_:)``.
    public func cancel(_ launches: [LaunchRecord]) async -> [(LaunchRecord, Result<(JobStatus, JobStatus), any Error>)]
    {
        var together: [String: Result<(before: JobStatus, after: JobStatus), any Error>] = [:]
        let submitted = launches.filter { $0.jobId != nil }
        let outputs = await outputsBeforeCancel(of: submitted)
        for (_, group) in Dictionary(grouping: submitted, by: \.contextName).sorted(by: { $0.key < $1.key }) {
            guard let control = try? control(for: group[0]) else { continue }
            together.merge(await control.cancelTogether(group)) { $1 }
        }
        let alone = launches.filter { together[$0.id] == nil }
        let results = await BoundedConcurrency.map(alone, limit: concurrency) {
            _, launch -> Result<(JobStatus, JobStatus), any Error> in
            do {
                if launch.jobId == nil {
                    // Never started or submitted: nothing to stop, unless it is on its way.
                    guard launch.state.isFinal else {
                        throw JobControlError.noJob(launch: launch.id, name: launch.experimentName)
                    }
                    return .success((JobStatus(recorded: launch), JobStatus(recorded: launch)))
                }
                return .success(try await self.control(for: launch).cancel(launch))
            } catch {
                return .failure(error)
            }
        }
        var byID = together.mapValues { $0.map { ($0.before, $0.after) } }
        for (index, launch) in alone.enumerated() { byID[launch.id] = results[index] ?? .failure(CancellationError()) }
        var outcomes: [(LaunchRecord, Result<(JobStatus, JobStatus), any Error>)] = []
        for launch in launches {
            let result = byID[launch.id] ?? .failure(CancellationError())
            if case .success(let (_, after)) = result {
                record(after, of: launch)
                if let output = outputs[launch.id] { await saveLog(output, of: launch) }
            }
            outcomes.append((launch, result))
        }
        return outcomes
    }

    /// The output so far of the launches whose backend deletes it with the job (Kubernetes' pods),
    /// read before they are cancelled, so that it can be saved.
    func outputsBeforeCancel(of launches: [LaunchRecord]) async -> [String: [UInt8]] {
        let controls = self.controls(for: launches.filter { !$0.state.isFinal })
        let doomed = launches.filter { controls[$0.contextName]?.cancelRemovesOutput == true && !$0.state.isFinal }
        let read = await BoundedConcurrency.map(doomed, limit: concurrency) { _, launch -> (String, [UInt8])? in
            guard let control = controls[launch.contextName] else { return nil }
            let capture = CollectingSink()
            guard (try? await control.logs(launch, follow: false, sink: capture)) != nil else { return nil }
            return (launch.id, await capture.output)
        }
        return Dictionary(read.compactMap { $0 ?? nil }, uniquingKeysWith: { first, _ in first })
    }
}
