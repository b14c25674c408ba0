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
        },
        output: { environment, context, launch, history in
            // The host the launch was placed on.
            guard let placed = try history().sshLaunch(id: launch.id) else {
                throw SSHError.unplaced(launch: launch.id)
            }
            let session = try SSHSession(
                destination: placed.host, sshConfig: context.ssh.sshConfig, identityFile: context.ssh.identityFile,
                host: environment.host, runner: environment.runner)
            return RsyncTransport(shell: session, runner: environment.runner, launch: launch.id)
        })
}
