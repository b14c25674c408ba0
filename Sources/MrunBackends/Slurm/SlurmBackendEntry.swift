import MrunConfig
import MrunHistory
import MrunPlan
import MrunSupport

/// The Slurm backend in the registry (``Backends``).
enum SlurmBackendEntry {
    static let entry = BackendEntry(
        planner: SlurmPlanner(),
        executor: { SlurmBackend(environment: $0, recorder: $1) },
        controlType: SlurmJobControl.self,
        control: { environment, context, history in
            SlurmJobControl(
                jobs: try SlurmJobs(
                    context: context, host: environment.host, runner: environment.runner, history: history))
        },
        output: { environment, context, launch, _ in
            RsyncTransport(
                shell: try SlurmShells.make(context.slurm, host: environment.host, runner: environment.runner),
                runner: environment.runner, launch: launch.id)
        })
}
