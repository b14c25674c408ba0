import Foundation
import Subprocess
import MrunSupport
import MrunConfig
import MrunTemplates
import MrunPlan
import MrunHistory
import KubernetesAPI

/// Where a Slurm context's commands run: on the login node over ssh (``SSHSession``), or right
/// here when mrun itself runs on the login node (``LocalShell``, `login_node: true`). Either way
/// commands are POSIX shell lines that start in the user's home on the cluster.
public protocol SlurmShell: Sendable {
    /// The cluster in messages: the context's `host`, or ``LocalShell/displayName``.
    var name: String { get }
    /// Whether commands cross ssh (which changes some messages, and how code is copied).
    var overSSH: Bool { get }
    /// The environment local helpers (rsync, tar) run with.
    var environment: [String: String] { get }
    /// Runs `command` with `input` on its standard input. Any exit status is the command's own,
    /// except that a failure of the transport itself throws.
    func run(_ command: String, input: [UInt8]) async throws -> CommandResult
    /// Runs `command`, passing its standard output to `sink` as it arrives; its standard error is
    /// collected and returned.
    func stream(_ command: String, to sink: any OutputSink) async throws -> CommandResult
    /// rsync's extra options and destination argument for copying into `directory` (relative to
    /// `home` or absolute).
    func rsyncDestination(_ directory: String, home: String) -> (options: [String], destination: String)
    /// The error for a helper (rsync) that failed because the transport did, if it did.
    func transportFailure(_ result: CommandResult) -> SlurmError?
}

extension SlurmShell {
    public func run(_ command: String) async throws -> CommandResult {
        try await run(command, input: [])
    }

    /// `host:path` for messages, or the path alone here.
    func location(_ path: String) -> String {
        overSSH ? "\(name):\(path)" : path
    }
}

public enum SlurmShells {
    /// The shell for a Slurm context: ssh to its `host`, or local commands with `login_node: true`.
    public static func make(_ settings: SlurmSettings, host: HostEnvironment, runner: any InputProcessRunning) throws
        -> any SlurmShell
    {
        if settings.loginNode == true { return LocalShell(host: host, runner: runner) }
        return try SSHSession(settings: settings, host: host, runner: runner)
    }
}

/// Runs the Slurm commands on this machine, for mrun running on the cluster's login node: `sh -c`
/// in the home directory, with mrun's environment minus Neptune's variables (sbatch passes its
/// environment on to the job, and credentials reach it only through the private file).
public struct LocalShell: SlurmShell {
    public static let displayName = "this machine"

    public var home: String
    public var environment: [String: String]
    public var runner: any InputProcessRunning

    public init(host: HostEnvironment, runner: any InputProcessRunning) {
        home = host.homeDirectory.path
        environment = host.variables.filter { !$0.key.hasPrefix("NEPTUNE_") }
        self.runner = runner
    }

    public var name: String { Self.displayName }
    public var overSSH: Bool { false }

    func argv(_ command: String) -> [String] {
        ["/bin/sh", "-c", command]
    }

    public func run(_ command: String, input: [UInt8]) async throws -> CommandResult {
        try await runner.run(argv(command), input: input, environment: environment, workingDirectory: home)
    }

    public func stream(_ command: String, to sink: any OutputSink) async throws -> CommandResult {
        try await streamProcess(argv(command), environment: environment, workingDirectory: home, to: sink)
    }

    /// An absolute destination: rsync would read a relative one with a `:` as a remote host.
    public func rsyncDestination(_ directory: String, home: String) -> (options: [String], destination: String) {
        let path = directory.hasPrefix("/") ? directory : (home.hasSuffix("/") ? home : home + "/") + directory
        return ([], path + "/")
    }

    public func transportFailure(_ result: CommandResult) -> SlurmError? { nil }
}

/// Runs `argv`, passing its standard output to `sink` as it arrives; collects its standard error.
func streamProcess(
    _ argv: [String], environment: [String: String], workingDirectory: String?, to sink: any OutputSink
) async throws -> CommandResult {
    ignoreBrokenPipes()
    let launch = try SubprocessLaunch(argv: argv, environment: environment, workingDirectory: workingDirectory)
    let result = try await launch.mappingErrors {
        try await Subprocess.run(
            launch.configuration, input: .none, output: .sequence, error: .bytes(limit: 1 << 20)
        ) { execution in
            for try await chunk in execution.standardOutput {
                await sink.standardOutput(chunk.withUnsafeBytes { Array($0) })
            }
        }
    }
    return CommandResult(
        status: ExitStatus(result.terminationStatus), standardOutput: "",
        standardError: String(decoding: result.standardError, as: UTF8.self))
}
