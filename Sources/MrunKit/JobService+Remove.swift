import Foundation
import MrunSupport
import MrunConfig
import MrunTemplates
import MrunPlan
import MrunHistory
import KubernetesAPI
import MrunBackends

/// `mrun rm`: what launches left on their backends goes, their output saved first, and the
/// history marks them removed (they stay in it, for `show`, `diff`, `rerun`).
extension JobService {
    public enum RemoveError: UserFacingError, Equatable {
        case running(launch: String, name: String, state: JobState)

        public var description: String {
            switch self {
            case .running(let launch, let name, let state):
                return "launch \(launch) (\(name)) is \(state.rawValue.uppercased()): cancel it first, or pass --force"
                    + " to cancel and remove it"
            }
        }
    }

    /// Removes the launches, in the order given; each result lists what was removed (empty:
    /// nothing was left). A launch that has not ended is refused, unless `force`, which cancels it
    /// first. A directory that launches staying in the history share (a Slurm sweep's job
    /// directory) is kept until the last of them goes.
    public func remove(_ launches: [LaunchRecord], force: Bool) async -> [(LaunchRecord, Result<[String], any Error>)] {
        var (current, warnings) = await refresh(launches)
        for warning in warnings { environment.warn(warning) }
        var results: [String: Result<[String], any Error>] = [:]
        let open = current.filter { !$0.state.isFinal }
        if force && !open.isEmpty {
            for (launch, result) in await cancel(open) {
                if case .failure(let error) = result { results[launch.id] = .failure(error) }
            }
            current = current.map { ((try? history.launch(id: $0.id)) ?? nil) ?? $0 }
        } else {
            for launch in open {
                results[launch.id] = .failure(
                    RemoveError.running(launch: launch.id, name: launch.experimentName, state: launch.state))
            }
        }
        let removing = current.filter { results[$0.id] == nil }
        await saveLogs(of: removing)
        let leaving = Set(removing.map(\.id)).union((try? history.removedIDs()) ?? [])
        var sweeps: [String: [LaunchRecord]] = [:]
        for launch in removing {
            do {
                if let sweep = launch.sweepId, sweeps[sweep] == nil {
                    sweeps[sweep] = try history.launches(sweep: sweep)
                }
                let keep = sharesDirectory(launch, with: sweeps[launch.sweepId ?? ""] ?? [], exceptWith: leaving)
                results[launch.id] = .success(try await control(for: launch).remove(launch, keepDirectory: keep))
            } catch {
                results[launch.id] = .failure(error)
            }
        }
        let done = removing.filter { if case .success = results[$0.id] { true } else { false } }.map(\.id)
        do {
            try history.markRemoved(done)
        } catch {
            environment.warn("cannot mark the launches removed in the history: \(error)")
        }
        return current.map { ($0, results[$0.id] ?? .failure(CancellationError())) }
    }

    /// Whether another launch of its sweep (`points`), not among `others`, has the same directory
    /// (the points of a Slurm sweep share one).
    func sharesDirectory(_ launch: LaunchRecord, with points: [LaunchRecord], exceptWith others: Set<String>) -> Bool {
        guard let directory = launch.runDirectory, launch.sweepId != nil else { return false }
        return points.contains { other in
            other.id != launch.id && other.runDirectory == directory && !others.contains(other.id)
        }
    }
}
