import Subprocess

/// How a child process ended.
public enum ExitStatus: Sendable, Equatable {
    case exited(Int32)
    case signalled(Int32)

    /// The code a POSIX shell would report in `$?`, so mrun can exit with it.
    public var shellCode: Int32 {
        switch self {
        case .exited(let code): code
        case .signalled(let signal): 128 + signal
        }
    }

    public var succeeded: Bool { self == .exited(0) }
}

/// The complete output of a finished command.
public struct CommandResult: Sendable {
    public var status: ExitStatus
    public var standardOutput: String
    public var standardError: String

    public init(status: ExitStatus, standardOutput: String, standardError: String) {
        self.status = status
        self.standardOutput = standardOutput
        self.standardError = standardError
    }
}

/// Runs short helper commands (`docker`, `ssh`, `git`) and collects what they print.
///
/// A protocol so that callers can be tested with a scripted fake instead of real programs.
public protocol ProcessRunning: Sendable {
    /// Runs `argv` to completion. A non-zero exit is a normal result, not an error.
    ///
    /// - Parameters:
    ///   - argv: Program and arguments, passed to the program unchanged (no shell).
    ///     A program name without `/` is looked up on the `PATH` of `environment` (mrun's own
    ///     `PATH` when that has none); a relative path is taken from `workingDirectory`.
    ///   - environment: `nil` inherits this process's environment; otherwise exactly these variables.
    ///   - workingDirectory: `nil` keeps this process's working directory.
    func run(
        _ argv: [String],
        environment: [String: String]?,
        workingDirectory: String?
    ) async throws -> CommandResult
}

/// Why a command could not be started or watched.
public enum ProcessError: UserFacingError, Equatable {
    case emptyCommand
    case programNotFound(String)
    case workingDirectoryUnavailable(program: String, directory: String)
    case launchFailed(program: String, reason: String)
    case logFileUnwritable(path: String, reason: String)

    public var description: String {
        switch self {
        case .emptyCommand:
            "Cannot run an empty command: the argument list has no program."
        case .programNotFound(let program) where program.contains("/"):
            "Cannot run \(quoted: program): no executable file at that path; check the path and its permissions."
        case .programNotFound(let program):
            "Cannot run \(quoted: program): program not found on PATH; install it or add its directory to PATH."
        case .workingDirectoryUnavailable(let program, let directory):
            "Cannot run \(quoted: program) in \(quoted: directory): the directory does not exist or is not accessible."
        case .launchFailed(let program, let reason):
            "Cannot run \(quoted: program): \(reason)"
        case .logFileUnwritable(let path, let reason):
            "Cannot write the log file \(quoted: path): \(reason)."
        }
    }
}

/// The real ``ProcessRunning``, backed by swift-subprocess.
///
/// Standard input is empty (not the terminal), so a helper that asks a question fails instead of hanging.
public struct SystemProcessRunner: ProcessRunning {
    public init() {}

    public func run(
        _ argv: [String],
        environment: [String: String]?,
        workingDirectory: String?
    ) async throws -> CommandResult {
        let launch = try SubprocessLaunch(
            argv: argv,
            environment: environment,
            workingDirectory: workingDirectory
        )
        let result = try await launch.mappingErrors {
            // Unlimited on purpose: callers rely on complete output, and both pipes are drained
            // concurrently by swift-subprocess, so a chatty child cannot block on a full pipe.
            try await Subprocess.run(
                launch.configuration,
                input: .none,
                output: .bytes(limit: .max),
                error: .bytes(limit: .max)
            )
        }
        return CommandResult(
            status: ExitStatus(result.terminationStatus),
            standardOutput: String(decoding: result.standardOutput, as: UTF8.self),
            standardError: String(decoding: result.standardError, as: UTF8.self)
        )
    }
}

/// Translation from mrun's plain argv/environment to a swift-subprocess configuration, shared by
/// ``SystemProcessRunner`` and ``StreamingProcess`` so both resolve programs and report failures alike.
package struct SubprocessLaunch {
    let program: String
    package let configuration: Configuration

    package init(argv: [String], environment: [String: String]?, workingDirectory: String?) throws {
        guard let program = argv.first else { throw ProcessError.emptyCommand }
        self.program = program
        // swift-subprocess searches PATH only for `.name`, and rejects names containing `/`.
        let executable: Executable = program.contains("/") ? .path(.init(program)) : .name(program)
        var configuration = Configuration(
            executable: executable,
            arguments: Arguments(Array(argv.dropFirst())),
            environment: Self.subprocessEnvironment(environment)
        )
        if let workingDirectory {
            // `FilePath` is built through inference: naming it would need swift-system as a direct dependency.
            configuration.workingDirectory = .some(.init(workingDirectory))
        }
        self.configuration = configuration
    }

    /// Runs `body`, turning launch failures into one-line ``ProcessError``s naming the program.
    package func mappingErrors<Result>(_ body: () async throws -> Result) async throws -> Result {
        do {
            return try await body()
        } catch let error as SubprocessError {
            throw processError(for: error)
        }
    }

    private func processError(for error: SubprocessError) -> ProcessError {
        switch error.code {
        case .executableNotFound:
            return .programNotFound(program)
        case .failedToChangeWorkingDirectory:
            let directory = configuration.workingDirectory.map { "\($0)" } ?? "."
            return .workingDirectoryUnavailable(program: program, directory: directory)
        default:
            return .launchFailed(program: program, reason: error.description)
        }
    }

    private static func subprocessEnvironment(_ environment: [String: String]?) -> Environment {
        guard let environment else { return .inherit }
        var variables: [Environment.Key: String] = [:]
        for (name, value) in environment {
            if let key = Environment.Key(rawValue: name) {
                variables[key] = value
            }
        }
        return .custom(variables)
    }
}

extension ExitStatus {
    package init(_ status: TerminationStatus) {
        switch status {
        case .exited(let code): self = .exited(code)
        case .signaled(let signal): self = .signalled(signal)
        }
    }
}
