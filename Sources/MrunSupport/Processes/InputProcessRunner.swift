import Subprocess

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Runs helper commands that read data on standard input — how secrets and scripts reach `ssh`
/// without ever appearing on a command line, where `ps` would show them.
public protocol InputProcessRunning: ProcessRunning {
    /// Runs `argv` with `input` as its standard input, to completion; as
    /// ``ProcessRunning/run(_:environment:workingDirectory:)`` otherwise.
    func run(
        _ argv: [String],
        input: [UInt8],
        environment: [String: String]?,
        workingDirectory: String?
    ) async throws -> CommandResult
}

extension SystemProcessRunner: InputProcessRunning {
    public func run(
        _ argv: [String],
        input: [UInt8],
        environment: [String: String]?,
        workingDirectory: String?
    ) async throws -> CommandResult {
        ignoreBrokenPipes()
        let launch = try SubprocessLaunch(argv: argv, environment: environment, workingDirectory: workingDirectory)
        let result = try await launch.mappingErrors {
            try await Subprocess.run(
                launch.configuration,
                input: .inputWriter,
                output: .bytes(limit: .max),
                error: .bytes(limit: .max)
            ) { execution in
                // A child may exit without reading all its input (ssh when the login fails); its
                // exit status says why, so a failed write is not an error of its own.
                _ = try? await execution.standardInputWriter.write(input)
                try? await execution.standardInputWriter.finish()
            }
        }
        return CommandResult(
            status: ExitStatus(result.terminationStatus),
            standardOutput: String(decoding: result.standardOutput, as: UTF8.self),
            standardError: String(decoding: result.standardError, as: UTF8.self)
        )
    }
}

/// Writing to a child that has exited raises SIGPIPE, which would kill mrun; ignored, the write
/// fails with EPIPE instead. Children still start with the default action (swift-subprocess resets it).
package func ignoreBrokenPipes() {
    _ = signal(SIGPIPE, SIG_IGN)
}
