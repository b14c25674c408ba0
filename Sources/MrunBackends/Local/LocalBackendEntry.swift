import MrunConfig
import MrunHistory
import MrunPlan
import MrunSupport

/// The local backend in the registry (``Backends``).
enum LocalBackendEntry {
    static let entry = BackendEntry(
        planner: LocalPlanner(),
        executor: { dependencies, recorder in
            LocalBackend(host: dependencies.host, sink: StandardStreamsSink(), recorder: recorder)
        },
        control: { _, _, history in LocalJobControl(history: history) })
}
