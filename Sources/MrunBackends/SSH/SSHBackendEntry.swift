import MrunConfig
import MrunHistory
import MrunPlan
import MrunSupport

/// The ssh backend in the registry (``Backends``).
enum SSHBackendEntry {
    static let entry = BackendEntry(
        planner: SSHPlanner(),
        executor: { SSHBackend(environment: $0, recorder: $1) },
        controlType: SSHJobControl.self,
        control: { environment, context, history in
            SSHJobControl(
                context: context, host: environment.host, runner: environment.runner,
                templatesDirectory: environment.store.templatesDirectory, history: history)
        })
}
