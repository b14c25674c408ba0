import MrunSupport
import MrunConfig
import MrunTemplates
import MrunPlan
import MrunHistory
import KubernetesAPI

extension SSHSession: SlurmShell {
    public var overSSH: Bool { true }

    /// Runs `command` remotely, passing its standard output to `sink` as it arrives (for `logs`);
    /// its standard error is collected and returned for the caller to interpret.
    public func stream(_ command: String, to sink: any OutputSink) async throws -> CommandResult {
        let result = try await streamProcess(argv(command), environment: environment, workingDirectory: nil, to: sink)
        if result.status == .exited(255) { throw failure(result.standardError) }
        return result
    }

    /// rsync over the shared connection (`-e`), to `HOST:DIR/`; relative paths start from the remote home.
    public func rsyncDestination(_ directory: String, home: String) -> (options: [String], destination: String) {
        (["-e", rsyncShell], "\(destination.rsyncTarget):\(directory)/")
    }

    /// ssh's own failures end its helpers with exit status 255.
    public func transportFailure(_ result: CommandResult) -> SlurmError? {
        result.status == .exited(255) ? failure(result.standardError) : nil
    }
}
