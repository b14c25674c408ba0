import Foundation
import MrunSupport
import MrunConfig
import MrunTemplates
import MrunPlan
import MrunHistory
import KubernetesAPI
import MrunBackends

/// The launches of the history and the backends that ran them: what `list`, `status`, `logs`,
/// `cancel` and `wait` do, whatever the backend.
public struct JobService: Sendable {
    public var history: HistoryStore
    public var environment: MrunEnvironment
    var store: ConfigStore { environment.store }
    /// How many contexts are asked at once while refreshing.
    public var concurrency = 4

    public init(history: HistoryStore, environment: MrunEnvironment) {
        self.history = history
        self.environment = environment
    }

    /// The context a launch ran on: its file as it is now (its `env` values, a moved ssh host),
    /// else the context as recorded (its `env` redacted, which following a job does not need).
    public func context(of launch: LaunchRecord) -> Context {
        if let current = try? store.loadContext(named: launch.contextName), current.type == launch.backend {
            return current
        }
        return launch.context
    }

    public func control(for launch: LaunchRecord) throws -> any JobControl {
        try JobControls.control(for: context(of: launch), environment: environment, history: history)
    }

    /// Asks the backends about the launches that have not ended and records what they say: one
    /// call per context (Slurm: one `squeue`/`sacct` round trip for all its jobs), at most
    /// ``concurrency`` contexts at once. Returns the launches as they are now, in the same order,
    /// and a warning for each context that could not be asked (its launches keep their recorded
    /// state).
    public func refresh(_ launches: [LaunchRecord]) async -> (launches: [LaunchRecord], warnings: [String]) {
        let open = launches.filter { !$0.state.isFinal && $0.jobId != nil }
        let groups = Dictionary(grouping: open, by: \.contextName).sorted { $0.key < $1.key }
        guard !groups.isEmpty else { return (launches, []) }
        let results = await BoundedConcurrency.map(groups, limit: concurrency) {
            _, group -> (String, Result<[String: JobStatus], any Error>) in
            do {
                return (group.key, .success(try await self.control(for: group.value[0]).refresh(group.value)))
            } catch {
                return (group.key, .failure(error))
            }
        }.compactMap { $0 }
        var statuses: [String: JobStatus] = [:]
        var warnings: [String] = []
        for (name, result) in results.sorted(by: { $0.0 < $1.0 }) {
            switch result {
            case .success(let found): statuses.merge(found) { $1 }
            case .failure(let error): warnings.append("cannot ask context \(quoted: name) about its launches: \(error)")
            }
        }
        do {
            try history.refresh(statuses.mapValues { ($0.state, $0.exitCode) })
        } catch {
            warnings.append("cannot record the launches' states in the history: \(error)")
        }
        let updated = launches.map { launch in
            guard let status = statuses[launch.id], !launch.state.isFinal else { return launch }
            var launch = launch
            launch.state = status.state
            launch.exitCode = status.exitCode
            return launch
        }
        let wasOpen = Set(open.map(\.id))
        await saveLogs(of: updated.filter { wasOpen.contains($0.id) && $0.state.isFinal })
        return (updated, warnings)
    }

    /// Records one launch's state as a backend reported it (when it has not ended in the history).
    public func record(_ status: JobStatus, of launch: LaunchRecord) {
        guard !launch.state.isFinal else { return }
        do {
            try history.refresh([launch.id: (status.state, status.exitCode)])
        } catch {
            environment.warn("cannot record the state of launch \(launch.id) in the history: \(error)")
        }
    }
}
