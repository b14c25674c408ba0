import MrunConfig
import MrunHistory
import MrunPlan
import MrunSupport

/// The Slurm backend in the registry (``Backends``).
enum SlurmBackendEntry {
    static let entry = BackendEntry(
        planner: SlurmPlanner(),
        executor: { dependencies, recorder in
            SlurmBackend(
                host: dependencies.host, store: dependencies.store, sink: StandardStreamsSink(),
                runner: SystemProcessRunner(), recorder: recorder)
        },
        control: { dependencies, context, _ in
            SlurmJobControl(
                jobs: try SlurmJobs(
                    context: context, host: dependencies.host, store: dependencies.store, runner: dependencies.runner))
        })
}
