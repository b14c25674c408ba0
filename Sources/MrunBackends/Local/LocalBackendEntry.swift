import MrunConfig
import MrunHistory
import MrunPlan
import MrunSupport

/// The local backend in the registry (``Backends``).
enum LocalBackendEntry {
    static let entry = BackendEntry(
        planner: LocalPlanner(),
        executor: { environment, recorder in backend(host: environment.host, sink: environment.sink, recorder: recorder)
        },
        controlType: LocalJobControl.self, control: { _, _, history in LocalJobControl(history: history) },
        output: { environment, _, launch, _ in
            RsyncTransport(
                shell: LocalShell(host: environment.host, runner: environment.runner), runner: environment.runner,
                launch: launch.id)
        })

    /// The backend is generic over its sink (each output line is written through it); opening the
    /// environment's sink here picks the concrete type.
    private static func backend(host: HostEnvironment, sink: some OutputSink, recorder: LaunchRecorder?)
        -> any Backend
    {
        LocalBackend(host: host, sink: sink, recorder: recorder)
    }
}
