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
    /// A job on the chosen context, by an id of its backend's own (a Slurm job id), that the
    /// history does not hold (submitted from another machine, or before mrun kept a history):
    /// followed as the backend reports it, through the context's control.
    case job(id: String, control: any JobControl)
}

/// Turns the job commands' arguments into launches: a launch id or a unique prefix of one, an
/// experiment or job name, a name pattern matching one launch (see ``HistoryStore/find(_:)``), and,
/// where the chosen context's backend names jobs by ids of its own (``JobControl/jobIDKind``: a
/// Slurm context's `123`, `123_4`), such an id.
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

    /// The chosen context (`--context` or `current_context`) when its backend names jobs by ids of
    /// its own, with that kind of id. A context that cannot be read has none: launches are still
    /// found in the history.
    func jobIDContext() -> (context: Context, kind: JobIDKind)? {
        guard let context = try? store.resolveContext(override: contextOverride),
            let kind = JobControls.jobIDKind(for: context.type)
        else { return nil }
        return (context, kind)
    }

    /// Whether `reference` is a job id of the chosen context's backend (a Slurm job id on a Slurm
    /// context).
    public func isBackendJobID(_ reference: String) -> Bool {
        jobIDContext()?.kind.matches(reference) == true
    }

    public func resolve(_ reference: String) throws -> JobTarget {
        let backend = jobIDContext()
        if let (context, kind) = backend, kind.matches(reference) {
            // Opened once: the control reads the history too (Slurm: where a job's output went).
            let history = Result { try openHistory() }
            do {
                if let launch = try history.get().launch(jobId: reference, context: context.name) {
                    return .launch(launch)
                }
                // A launch id may start with digits: a prefix of one mrun holds wins over asking
                // the backend about a job id it may never have had.
                if let launch = try? history.get().find(reference) { return .launch(launch) }
            } catch let error as HistoryError {
                environment.warn("\(error); asking \(kind.system) about job \(reference) directly")
            }
            let control = try JobControls.control(
                for: context, environment: environment, history: { try history.get() })
            return .job(id: reference, control: control)
        }
        let history = try openHistory()
        do {
            return .launch(try history.find(reference))
        } catch HistoryError.notFound(let reference) where backend != nil {
            throw JobReferenceError.notFound(
                reference: reference, system: backend?.kind.system ?? "", context: backend?.context.name ?? "")
        }
    }

    /// The chosen context's jobs as its backend lists them (`mrun list --all`), whether or not the
    /// history holds them; the history is not opened.
    public func backendJobs() async throws -> BackendJobList {
        let context = try store.resolveContext(override: contextOverride)
        let control = try JobControls.control(for: context, environment: environment, history: { try openHistory() })
        guard let jobs = try await control.backendJobs() else {
            throw JobControlError.noBackendJobs(context: context.name, type: context.type)
        }
        return jobs
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
    /// Neither a job id of the context's backend (`system`, e.g. `Slurm`) nor a launch.
    case notFound(reference: String, system: String, context: String)

    public var description: String {
        switch self {
        case .notFound(let reference, let system, let context):
            return
                "\(quoted: reference) is not a \(system) job id, and no launch in the history matches it; give the job id"
                + " 'mrun run' printed, a launch id or a unique prefix of one, a name, or a pattern such as"
                + " 'train-*' (context \(quoted: context), see 'mrun list')"
        }
    }
}
