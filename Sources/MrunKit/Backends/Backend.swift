/// Executes an experiment plan somewhere. Each context type has one.
public protocol Backend: Sendable {
    /// Runs or submits the plan; returns the exit status mrun should end with (0 when a remote
    /// submission succeeded, the experiment's own status for a local run).
    func execute(_ plan: ExperimentPlan) async throws -> Int32
}

public enum Backends {
    public static func backend(for type: ContextType, host: HostEnvironment, store: ConfigStore) throws -> any Backend {
        switch type {
        case .local:
            return LocalBackend(host: host, sink: StandardStreamsSink())
        case .kubernetes:
            throw ExperimentError.backendUnavailable(type: type, issue: "the Kubernetes backend is being built")
        case .slurm:
            return SlurmBackend(host: host, store: store, sink: StandardStreamsSink(), runner: SystemProcessRunner())
        }
    }
}
