import Foundation
import MrunSupport
import MrunConfig
import MrunTemplates
import MrunPlan
import MrunHistory
import KubernetesAPI
import MrunBackends

/// What an argument of `status`, `logs`, `cancel` or `wait` names.
public enum JobTarget: Sendable {
    case launch(LaunchRecord)
    /// A job id on the chosen Slurm context that the history does not hold (submitted from another
    /// machine, or before mrun kept a history): followed as Slurm reports it.
    case slurmJob(SlurmJobs, id: String)
}

/// Turns the job commands' arguments into launches: a launch id or a unique prefix of one, an
/// experiment or job name, a name pattern matching one launch (see ``HistoryStore/find(_:)``), and,
/// on a Slurm context (`--context` or `current_context`), a Slurm job id (`123`, `123_4`).
public struct JobResolver: Sendable {
    public var environment: MrunEnvironment
    public var contextOverride: String?
    var store: ConfigStore { environment.store }

    public init(environment: MrunEnvironment, contextOverride: String?) {
        self.environment = environment
        self.contextOverride = contextOverride
    }

    /// The history, opened when a command first needs it; its error when it cannot be opened.
    public func openHistory() throws -> HistoryStore {
        do {
            return try HistoryStore(home: store.home)
        } catch let error as HistoryError {
            throw error
        } catch {
            throw HistoryError.unavailable(
                file: store.home.appendingPathComponent(HistoryStore.fileName).path, detail: "\(error)")
        }
    }

    /// The service that follows the launches the history holds.
    public func service() throws -> JobService {
        JobService(history: try openHistory(), environment: environment)
    }

    /// The chosen context, when it is a Slurm one.
    func slurmContext() -> Context? {
        guard let context = try? store.resolveContext(override: contextOverride), context.type == .slurm else {
            return nil
        }
        return context
    }

    /// Whether `reference` is a Slurm job id on the chosen context, a Slurm one.
    public func slurmJobID(_ reference: String) -> Bool {
        SlurmOutput.isJobID(reference) && slurmContext() != nil
    }

    public func resolve(_ reference: String) throws -> JobTarget {
        let slurm = slurmContext()
        if let slurm, SlurmOutput.isJobID(reference) {
            do {
                if let launch = try openHistory().launch(jobId: reference, context: slurm.name) {
                    return .launch(launch)
                }
            } catch let error as HistoryError {
                environment.warn("\(error); asking Slurm about job \(reference) directly")
            }
            return .slurmJob(
                try SlurmJobs(
                    context: slurm, host: environment.host, store: store, runner: environment.runner),
                id: reference)
        }
        let history = try openHistory()
        do {
            return .launch(try history.find(reference))
        } catch HistoryError.notFound(let reference) where slurm != nil {
            throw JobReferenceError.notFound(reference: reference, slurmContext: slurm?.name ?? "")
        }
    }

    /// The launches of the sweep `reference` names (its id or name), by point, the newest launch
    /// of each point only (a resumed point's earlier launch is left out); nil when no sweep has
    /// that id or name.
    public func sweepLaunches(_ reference: String) throws -> (sweep: String, launches: [LaunchRecord])? {
        let history = try openHistory()
        // Sweeps launched before the history kept sweeps have launches only.
        let id = try history.sweep(reference)?.id ?? reference
        let launches = try history.launches(sweep: id)
        if launches.isEmpty { return try history.sweep(reference) == nil ? nil : (id, []) }
        var latest: [Int: LaunchRecord] = [:]
        var unindexed: [LaunchRecord] = []
        for launch in launches {
            guard let index = launch.sweepIndex else {
                unindexed.append(launch)
                continue
            }
            latest[index] = launch
        }
        return (id, latest.keys.sorted().compactMap { latest[$0] } + unindexed)
    }
}

public enum JobReferenceError: UserFacingError, Equatable {
    case notFound(reference: String, slurmContext: String)

    public var description: String {
        switch self {
        case .notFound(let reference, let context):
            return
                "\(quoted: reference) is not a Slurm job id, and no launch in the history matches it; give the job id"
                + " 'mrun run' printed, a launch id or a unique prefix of one, a name, or a pattern such as"
                + " 'train-*' (context \(quoted: context), see 'mrun list')"
        }
    }
}
