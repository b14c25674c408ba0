import Foundation

/// Executes an experiment plan somewhere. Each context type has one.
public protocol Backend: Sendable {
    /// Runs or submits the plan; returns the exit status mrun should end with (0 when a remote
    /// submission succeeded, the experiment's own status for a local run).
    func execute(_ plan: ExperimentPlan) async throws -> Int32
}

/// A backend that launches a whole sweep at once: the code (or image) shared by the points goes
/// out once, then every point runs with its own name, arguments and `MRUN_PARAMS`.
public protocol SweepBackend: Backend {
    /// Runs or submits every point of `sweep`; returns 0 when all were submitted (or, locally,
    /// all succeeded), else the status of the first point that failed.
    func execute(_ sweep: SweepPlan) async throws -> Int32
}

/// The one place that maps a context type to its backend: the planner that completes its plans,
/// the executor that launches them and the job control that follows them.
public enum Backends {
    package static let planners: [ContextType: any BackendPlanner] = [
        .local: LocalPlanner(), .kubernetes: KubernetesPlanner(), .slurm: SlurmPlanner(),
    ]

    /// The backend for a context type; with a recorder, it records each launch in the history.
    public static func backend(
        for type: ContextType, host: HostEnvironment, store: ConfigStore, recorder: LaunchRecorder? = nil
    ) throws -> any Backend {
        try sweepBackend(for: type, host: host, store: store, recorder: recorder)
    }

    public static func sweepBackend(
        for type: ContextType, host: HostEnvironment, store: ConfigStore, recorder: LaunchRecorder? = nil
    ) throws -> any SweepBackend {
        switch type {
        case .local:
            return LocalBackend(host: host, sink: StandardStreamsSink(), recorder: recorder)
        case .kubernetes:
            return KubernetesBackend(host: host, sink: StandardStreamsSink(), recorder: recorder)
        case .slurm:
            return SlurmBackend(
                host: host, store: store, sink: StandardStreamsSink(), runner: SystemProcessRunner(), recorder: recorder
            )
        }
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
