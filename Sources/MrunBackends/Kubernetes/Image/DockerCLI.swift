import Foundation
import Subprocess
import MrunSupport
import MrunConfig
import MrunTemplates
import MrunPlan
import MrunHistory
import KubernetesAPI

/// Which of a child's streams a line came from.
enum OutputStream: Sendable, Equatable {
    case standardOutput, standardError
}

/// Runs the `docker` client against the daemon and the logins of the host mrun was given.
struct DockerCLI: Sendable {
    let environment: [String: String]

    init(host: HostEnvironment, configDirectory: URL) {
        var environment = host.variables
        // Explicit, so docker uses exactly the logins mrun read for its own registry check.
        environment["DOCKER_CONFIG"] = configDirectory.path
        // The classic builder's output is what mrun reads (step lines, "Using cache"); BuildKit prints
        // differently and needs buildx, which many engines lack. Never 1: see the README.
        environment["DOCKER_BUILDKIT"] = "0"
        self.environment = environment
    }

    /// Runs `docker ARGUMENTS` to completion and collects its output.
    func run(_ arguments: [String]) async throws -> CommandResult {
        do {
            return try await SystemProcessRunner().run(
                ["docker"] + arguments, environment: environment, workingDirectory: nil)
        } catch ProcessError.programNotFound {
            throw ImageError.dockerNotInstalled
        }
    }

    /// Runs `docker ARGUMENTS`, handing each line of output to `onLine` as it arrives (ANSI colours
    /// removed), and returns how docker ended. A non-zero exit is a result, not an error.
    func stream(
        _ arguments: [String], workingDirectory: String?,
        onLine: @escaping @Sendable (String, OutputStream) async -> Void
    ) async throws -> ExitStatus {
        do {
            let launch = try SubprocessLaunch(
                argv: ["docker"] + arguments, environment: environment, workingDirectory: workingDirectory)
            let result = try await launch.mappingErrors {
                try await Subprocess.run(launch.configuration, input: .none, output: .sequence, error: .sequence) {
                    execution in
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        group.addTask {
                            var lines = LineSplitter()
                            for try await chunk in execution.standardOutput {
                                for line in lines.feed(chunk.withUnsafeBytes { Array($0) }) {
                                    await onLine(line, .standardOutput)
                                }
                            }
                            if let last = lines.finish() { await onLine(last, .standardOutput) }
                        }
                        group.addTask {
                            var lines = LineSplitter()
                            for try await chunk in execution.standardError {
                                for line in lines.feed(chunk.withUnsafeBytes { Array($0) }) {
                                    await onLine(line, .standardError)
                                }
                            }
                            if let last = lines.finish() { await onLine(last, .standardError) }
                        }
                        try await group.waitForAll()
                    }
                }
            }
            return ExitStatus(result.terminationStatus)
        } catch ProcessError.programNotFound {
            throw ImageError.dockerNotInstalled
        }
    }

    /// Runs `argv` with `input` on its standard input: how secrets reach helpers without appearing
    /// in any process's arguments.
    static func run(_ argv: [String], input: String, environment: [String: String]) async throws -> CommandResult {
        let launch = try SubprocessLaunch(argv: argv, environment: environment, workingDirectory: nil)
        let result = try await launch.mappingErrors {
            try await Subprocess.run(
                launch.configuration, input: .string(input), output: .string(limit: 1 << 20),
                error: .string(limit: 1 << 20))
        }
        return CommandResult(
            status: ExitStatus(result.terminationStatus), standardOutput: result.standardOutput,
            standardError: result.standardError)
    }
}

/// Cuts a byte stream into lines at `\n` or `\r` (docker redraws progress with `\r`), dropping ANSI
/// escape sequences such as the red colour docker gives a build step's stderr.
struct LineSplitter {
    private var pending: [UInt8] = []
    private var afterCarriageReturn = false

    mutating func feed(_ bytes: [UInt8]) -> [String] {
        var lines: [String] = []
        for byte in bytes {
            let isNewline = byte == UInt8(ascii: "\n")
            if isNewline || byte == UInt8(ascii: "\r") {
                // `\r\n` ends one line, not two.
                if !(isNewline && afterCarriageReturn && pending.isEmpty) {
                    lines.append(Self.text(pending))
                }
                pending.removeAll(keepingCapacity: true)
            } else {
                pending.append(byte)
            }
            afterCarriageReturn = byte == UInt8(ascii: "\r")
        }
        return lines
    }

    mutating func finish() -> String? {
        defer { pending.removeAll() }
        return pending.isEmpty ? nil : Self.text(pending)
    }

    static func text(_ bytes: [UInt8]) -> String {
        var kept: [UInt8] = []
        kept.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            if bytes[index] == 0x1B, index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "[") {
                // CSI: parameters and intermediates, then one final byte in @...~.
                index += 2
                while index < bytes.count, !(0x40...0x7E).contains(bytes[index]) { index += 1 }
                index += 1
            } else {
                kept.append(bytes[index])
                index += 1
            }
        }
        return String(decoding: kept, as: UTF8.self)
    }
}
