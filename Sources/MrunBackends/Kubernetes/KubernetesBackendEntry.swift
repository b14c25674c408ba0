import KubernetesAPI
import MrunConfig
import MrunHistory
import MrunPlan
import MrunSupport

/// The Kubernetes backend in the registry (``Backends``).
enum KubernetesBackendEntry {
    static let entry = BackendEntry(
        planner: KubernetesPlanner(),
        executor: { KubernetesBackend(environment: $0, recorder: $1) },
        controlType: KubernetesJobControl.self,
        control: { environment, context, _ in
            KubernetesJobControl(
                context: context, host: environment.host, http: environment.http, sink: environment.sink,
                warn: environment.warn)
        },
        output: { environment, context, launch, _ in
            KubernetesOutputTransport(
                context: context, launch: launch, host: environment.host, http: environment.http,
                runner: environment.runner)
        },
        warmUp: { environment, context in
            let loader = KubeconfigLoader(host: environment.host)
            guard let connection = try? loader.resolve(contextName: context.kubernetes.kubeContext) else { return }
            await KubernetesClient(connection: connection, http: environment.http).warmUp()
        })
}
