import Subprocess
import Synchronization

#if canImport(Darwin)
    import Darwin
#elseif canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// A long-running experiment to run in the foreground.
public struct StreamingCommand: Sendable {
    /// Program and arguments, passed unchanged (no shell). Resolved as by ``ProcessRunning/run(_:environment:workingDirectory:)``.
    public var argv: [String]
    /// The child's complete environment; nothing is inherited from mrun.
    public var environment: [String: String]
    public var workingDirectory: String
    /// Receives the child's stdout and stderr interleaved; created or truncated, mode 0644.
    public var logFile: String

    public init(
        argv: [String], environment: [String: String], workingDirectory: String, logFile: String
    ) {
        self.argv = argv
        self.environment = environment
        self.workingDirectory = workingDirectory
        self.logFile = logFile
    }
}

/// Where a streaming child's output goes as it arrives, besides the log file.
public protocol OutputSink: Sendable {
    func standardOutput(_ bytes: [UInt8]) async
    func standardError(_ bytes: [UInt8]) async
}

/// Writes the child's output to mrun's own standard output and standard error.
public struct StandardStreamsSink: OutputSink {
    public init() {}

    public func standardOutput(_ bytes: [UInt8]) async {
        _ = writeFully(bytes, to: STDOUT_FILENO)
    }

    public func standardError(_ bytes: [UInt8]) async {
        _ = writeFully(bytes, to: STDERR_FILENO)
    }
}

/// Runs an experiment in the foreground, as a terminal user expects.
public enum StreamingProcess {
    /// Runs `command` until it ends, streaming its output chunk by chunk to `sink` and to the log file.
    ///
    /// The child reads mrun's standard input. While it runs, SIGINT, SIGTERM and SIGHUP sent to mrun
    /// are passed on to it (see ``SignalForwarder``) and mrun keeps waiting, so the returned status
    /// is the child's own. If the log file stops accepting writes, output keeps flowing to `sink`
    /// and a warning goes to its standard error rather than stopping the experiment.
    ///
    /// `started` receives the child's process id as soon as it runs.
    ///
    /// - Throws: ``ProcessError`` when the log file can't be created or the program can't be started.
    public static func run(
        _ command: StreamingCommand, sink: some OutputSink,
        started: @escaping @Sendable (Int32) async -> Void = { _ in }
    ) async throws -> ExitStatus {
        let launch = try SubprocessLaunch(
            argv: command.argv,
            environment: command.environment,
            workingDirectory: command.workingDirectory
        )
        let log = try LogFile(creatingAt: command.logFile)
        defer { log.close() }
        let forwarding = try SignalForwarder.begin()
        defer { forwarding.end() }

        let result = try await launch.mappingErrors {
            try await Subprocess.run(
                launch.configuration,
                input: .currentStandardInput,
                output: .sequence,
                error: .sequence
            ) { execution in
                forwarding.track(execution.processIdentifier.value)
                await started(Int32(execution.processIdentifier.value))
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        for try await chunk in execution.standardOutput {
                            let bytes = chunk.withUnsafeBytes { Array($0) }
                            await log.append(bytes, warningTo: sink)
                            await sink.standardOutput(bytes)
                        }
                    }
                    group.addTask {
                        for try await chunk in execution.standardError {
                            let bytes = chunk.withUnsafeBytes { Array($0) }
                            await log.append(bytes, warningTo: sink)
                            await sink.standardError(bytes)
                        }
                    }
                    try await group.waitForAll()
                }
            }
        }
        return ExitStatus(result.terminationStatus)
    }
}

/// The experiment's log, shared by the stdout and stderr readers so chunks land in arrival order.
private final class LogFile: Sendable {
    private struct State {
        var descriptor: Int32
        var hasFailed = false
    }

    private let path: String
    private let state: Mutex<State>

    init(creatingAt path: String) throws {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw ProcessError.logFileUnwritable(path: path, reason: describeErrno(errno))
        }
        // The mode is promised regardless of umask: logs are meant to be read by other tools and users.
        fchmod(descriptor, 0o644)
        self.path = path
        self.state = Mutex(State(descriptor: descriptor))
    }

    /// Appends `bytes`; on the first failure warns once through `sink` and stops logging.
    func append(_ bytes: [UInt8], warningTo sink: some OutputSink) async {
        let failure: String? = state.withLock { state in
            guard !state.hasFailed, state.descriptor >= 0 else { return nil }
            let error = writeFully(bytes, to: state.descriptor)
            guard error != 0 else { return nil }
            state.hasFailed = true
            return describeErrno(error)
        }
        if let failure {
            let warning =
                "mrun: warning: cannot write to the log file '\(path)' (\(failure)); output continues here only.\n"
            await sink.standardError(Array(warning.utf8))
        }
    }

    func close() {
        state.withLock { state in
            if state.descriptor >= 0 {
                closeDescriptor(state.descriptor)
                state.descriptor = -1
            }
        }
    }
}

/// Writes all of `bytes` to `descriptor`, retrying short writes and interruptions.
///
/// - Returns: 0 on success, otherwise the `errno` of the failed write.
private func writeFully(_ bytes: [UInt8], to descriptor: Int32) -> Int32 {
    bytes.withUnsafeBytes { buffer in
        guard let start = buffer.baseAddress else { return 0 }
        var offset = 0
        while offset < buffer.count {
            let written = write(descriptor, start + offset, buffer.count - offset)
            if written >= 0 {
                offset += written
            } else if errno != EINTR {
                return errno
            }
        }
        return 0
    }
}

private func closeDescriptor(_ descriptor: Int32) {
    _ = close(descriptor)
}

private func describeErrno(_ code: Int32) -> String {
    String(cString: strerror(code))
}
