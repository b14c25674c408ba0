import MrunConfig
import MrunHistory
import MrunPlan
import MrunSupport

/// The Kubernetes backend in the registry (``Backends``).
enum KubernetesBackendEntry {
    static let entry = BackendEntry(
        planner: KubernetesPlanner(),
        executor: { dependencies, recorder in
            KubernetesBackend(host: dependencies.host, sink: StandardStreamsSink(), recorder: recorder)
        },
        control: { dependencies, context, _ in KubernetesJobControl(context: context, host: dependencies.host) })
}
