import Subprocess

extension SSHSession {
    /// Runs `command` remotely, passing its standard output to `sink` as it arrives (for `logs`);
    /// its standard error is collected and returned for the caller to interpret.
    func stream(_ command: String, to sink: any OutputSink) async throws -> CommandResult {
        ignoreBrokenPipes()
        let launch = try SubprocessLaunch(argv: argv(command), environment: environment, workingDirectory: nil)
        let result = try await launch.mappingErrors {
            try await Subprocess.run(
                launch.configuration, input: .none, output: .sequence, error: .bytes(limit: 1 << 20)
            ) { execution in
                for try await chunk in execution.standardOutput {
                    await sink.standardOutput(chunk.withUnsafeBytes { Array($0) })
                }
            }
        }
        let standardError = String(decoding: result.standardError, as: UTF8.self)
        let status = ExitStatus(result.terminationStatus)
        if status == .exited(255) { throw failure(standardError) }
        return CommandResult(status: status, standardOutput: "", standardError: standardError)
    }
}
