import Foundation
import MrunSupport
import MrunConfig
import MrunTemplates
import MrunPlan
import MrunHistory
import KubernetesAPI

/// Executes plans somewhere: one experiment, or the points of a sweep, whose shared code (or
/// image) goes out once before every point runs with its own name, arguments and `MRUN_PARAMS`.
public protocol Backend: Sendable {
    /// Runs or submits the plan; returns the exit status mrun should end with (0 when a remote
    /// submission succeeded, the experiment's own status for a local run).
    func execute(_ plan: ExperimentPlan) async throws -> Int32

    /// Runs or submits every point of `sweep`; returns 0 when all were submitted (or, locally,
    /// all succeeded), else the status of the first point that failed.
    func execute(_ sweep: SweepPlan) async throws -> Int32

    /// Runs or submits a sweep whose points are still being planned: `points` plans them (and
    /// records the sweep) and is called once. A backend that can set up what the points share
    /// meanwhile (a cluster's objects, an image) starts that first.
    func execute(_ planning: SweepPlanning, points: @escaping @Sendable () async throws -> SweepPlan) async throws
        -> Int32
}

extension Backend {
    public func execute(_ planning: SweepPlanning, points: @escaping @Sendable () async throws -> SweepPlan)
        async throws -> Int32
    {
        try await execute(points())
    }
}

/// One backend: the planner that completes its plans, the executor that launches them and the
/// job control that follows them. Each backend's folder defines its entry.
package struct BackendEntry: Sendable {
    package var planner: any BackendPlanner
    package var executor: @Sendable (MrunEnvironment, LaunchRecorder?) throws -> any Backend
    /// The control's type, for what holds for the whole backend (``JobControl/jobIDKind``).
    package var controlType: any JobControl.Type
    /// The control for a context; it opens the history only when it needs it.
    package var control: @Sendable (MrunEnvironment, Context, @escaping OpenHistory) throws -> any JobControl
    /// The way to a launch's output directory (`mrun fetch`).
    package var output:
        @Sendable (MrunEnvironment, Context, LaunchRecord, @escaping OpenHistory) throws
            -> any OutputTransport
    /// Readies what a launch on a context will use first and has no effect anywhere (a
    /// connection to the cluster), while the launch is still planned; nil: nothing to ready.
    package var warmUp: (@Sendable (MrunEnvironment, Context) async -> Void)? = nil
}

/// The one place that maps a context type to its backend.
public enum Backends {
    package static let entries: [ContextType: BackendEntry] = [
        .local: LocalBackendEntry.entry, .kubernetes: KubernetesBackendEntry.entry, .slurm: SlurmBackendEntry.entry,
        .ssh: SSHBackendEntry.entry,
    ]

    package static func entry(for type: ContextType) throws -> BackendEntry {
        guard let entry = entries[type] else {
            throw ExperimentError.planMismatch(type: type, issue: "no backend is registered for it")
        }
        return entry
    }

    package static var planners: [ContextType: any BackendPlanner] { entries.mapValues(\.planner) }

    /// The executor for a context type; with a recorder, it records each launch in the history.
    public static func backend(
        for type: ContextType, environment: MrunEnvironment, recorder: LaunchRecorder? = nil
    ) throws -> any Backend {
        try entry(for: type).executor(environment, recorder)
    }
}

extension PlanBuilder {
    /// A builder planning every context type with its backend's planner.
    public init(
        host: HostEnvironment, store: ConfigStore, now: @escaping @Sendable () -> Date = { Date() },
        suffix: @escaping @Sendable () -> String = {
            var generator = SystemRandomNumberGenerator()
            return Naming.randomSuffix(using: &generator)
        },
        randomSeed: @escaping @Sendable () -> UInt64 = { UInt64.random(in: 0...UInt64(UInt32.max)) }
    ) {
        self.init(
            host: host, store: store, planners: Backends.planners, now: now, suffix: suffix, randomSeed: randomSeed)
    }
}
