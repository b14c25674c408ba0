import MrunConfig
import MrunHistory
import MrunPlan
import MrunSupport

/// The Kubernetes backend in the registry (``Backends``).
enum KubernetesBackendEntry {
    static let entry = BackendEntry(
        planner: KubernetesPlanner(),
        executor: { environment, recorder in
            KubernetesBackend(
                host: environment.host, sink: environment.sink, http: environment.http, warn: environment.warn,
                recorder: recorder)
        },
        controlType: KubernetesJobControl.self,
        control: { environment, context, _ in
            KubernetesJobControl(
                context: context, host: environment.host, http: environment.http, sink: environment.sink,
                warn: environment.warn)
        })
}
