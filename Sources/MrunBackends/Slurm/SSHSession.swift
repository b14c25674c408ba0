import Crypto
import Foundation
import MrunSupport
import MrunConfig
import MrunTemplates
import MrunPlan
import MrunHistory
import KubernetesAPI

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// One shared ssh connection to a cluster, used by every step of a command: the system `ssh`
/// with a private ControlMaster socket, so the user's ssh config, agent and ProxyJump apply,
/// authentication happens once and later steps (rsync included) reuse the connection.
public struct SSHSession: Sendable {
    /// The context's `host` as the user wrote it, for messages.
    public var name: String
    public var destination: SSHDestination
    public var configFile: String?
    public var identityFile: String?
    public var controlPath: String
    /// The environment ssh and rsync run with (the agent socket comes from here).
    public var environment: [String: String]
    public var runner: any InputProcessRunning

    /// How long the master connection outlives the last command using it, in seconds.
    static let persistSeconds = 60
    /// A unix socket path holds at most 107 bytes, and ssh first binds a temporary name 17 bytes
    /// longer than the ControlPath.
    static let longestControlPath = 107 - 17

    public init(settings: SlurmSettings, host: HostEnvironment, runner: any InputProcessRunning) throws {
        try self.init(
            destination: settings.host ?? "", sshConfig: settings.sshConfig, identityFile: settings.identityFile,
            host: host, runner: runner)
    }

    /// A session to `name` (an ssh alias or `user@host[:port]`), for any backend that reaches hosts
    /// over ssh: Slurm's login node, an ssh context's hosts (one session, one master, per host).
    public init(
        destination name: String, sshConfig: String?, identityFile: String?, host: HostEnvironment,
        runner: any InputProcessRunning
    ) throws {
        self.name = name
        destination = try SSHDestination(parsing: name)
        configFile = sshConfig.map { host.resolve($0).path }
        self.identityFile = identityFile.map { host.resolve($0).path }
        // ssh needs the agent socket and the like, not credentials (a SendEnv could pass them on).
        environment = host.variables.filter { !$0.key.hasPrefix("NEPTUNE_") }
        self.runner = runner
        let key = [destination.description, configFile ?? "", self.identityFile ?? ""].joined(separator: "\n")
        controlPath = try Self.controlPath(for: key, under: host.mrunHome)
    }

    /// Options for every ssh invocation, also handed to rsync with `-e`.
    var options: [String] {
        var options: [String] = []
        if let configFile { options += ["-F", configFile] }
        // ssh expands %-tokens in both, so a '%' in a path must be doubled.
        if let identityFile { options += ["-i", identityFile.replacingOccurrences(of: "%", with: "%%")] }
        options += [
            "-o", "ControlMaster=auto", "-o", "ControlPath=\(controlPath.replacingOccurrences(of: "%", with: "%%"))",
            "-o", "ControlPersist=\(Self.persistSeconds)",
        ]
        if let port = destination.port { options += ["-p", String(port)] }
        return options
    }

    /// The argv running `command` (a POSIX shell command line) on the cluster, in the remote home.
    func argv(_ command: String) -> [String] {
        ["ssh"] + options + ["-T", "--", destination.sshTarget, command]
    }

    /// `ssh` with the shared options, as rsync's `-e` wants it: one string it splits on spaces,
    /// honouring quotes.
    var rsyncShell: String {
        (["ssh"] + options).map(Self.rsyncQuote).joined(separator: " ")
    }

    /// Runs `command` remotely with `input` on its standard input. Throws ``SlurmError/ssh`` when
    /// ssh itself fails (exit status 255); any other status is the remote command's.
    public func run(_ command: String, input: [UInt8]) async throws -> CommandResult {
        let result = try await runner.run(argv(command), input: input, environment: environment, workingDirectory: nil)
        if result.status == .exited(255) { throw failure(result.standardError) }
        return result
    }

    /// The ssh failure described by its messages on stderr.
    func failure(_ standardError: String) -> SlurmError {
        let lines = standardError.split(whereSeparator: \.isNewline).map {
            $0.trimmingCharacters(in: .whitespaces)
        }
        let meaningful = lines.filter { !$0.isEmpty && !$0.hasPrefix("Warning:") && !$0.hasPrefix("@@@") }
        var detail = meaningful.last.map { String($0.hasPrefix("ssh: ") ? $0.dropFirst(5) : Substring($0)) } ?? ""
        while detail.hasSuffix(".") { detail.removeLast() }
        let text = standardError.lowercased()
        let problem: SlurmError.SSHProblem
        if text.contains("permission denied") || text.contains("too many authentication failures") {
            problem = .authenticationRefused
        } else if text.contains("host key verification failed") || text.contains("host key for")
            || text.contains("no matching host key")
        {
            problem = .hostKey
        } else if [
            "connection refused", "could not resolve", "timed out", "no route to host", "network is unreachable",
            "connection closed", "connection reset", "name or service not known",
        ].contains(where: text.contains) {
            problem = .unreachable
        } else {
            problem = .other
        }
        return .ssh(host: name, problem: problem, detail: detail)
    }

    /// Quotes a word for rsync's own splitting of `-e`: single quotes, as a shell would, and only
    /// when needed.
    static func rsyncQuote(_ word: String) -> String {
        let plain = !word.isEmpty && word.allSatisfy { !$0.isWhitespace && !"'\"\\".contains($0) }
        return plain ? word : "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    /// A socket path private to this user: `$MRUN_HOME/ssh/cm-HASH`, or, when `$MRUN_HOME` is too
    /// deep for a unix socket, the same name in a private `/tmp/mrun-ssh-UID`.
    static func controlPath(for key: String, under mrunHome: URL) throws -> String {
        let digest = HexEncoding.hex(SHA256.hash(data: Array(key.utf8)).prefix(8))
        let name = "cm-\(digest)"
        let preferred = mrunHome.appendingPathComponent("ssh")
        let fallback = URL(fileURLWithPath: "/tmp/mrun-ssh-\(getuid())")
        for directory in [preferred, fallback] {
            let path = directory.appendingPathComponent(name).path
            guard path.utf8.count <= longestControlPath else { continue }
            try makePrivateDirectory(directory)
            return path
        }
        throw ConfigError.io("no directory short enough for the ssh control socket (\(preferred.path))")
    }

    /// Creates `directory` (mode 0700) or checks that an existing one is ours and private: others
    /// must not be able to plant a socket that ssh would then trust as the connection.
    static func makePrivateDirectory(_ directory: URL) throws {
        let path = directory.path
        if mkdir(path, 0o700) != 0 && errno != EEXIST {
            try FileManager.default.createDirectory(
                at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        }
        var info = stat()
        guard lstat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR, info.st_uid == getuid() else {
            throw ConfigError.io("\(path) is not a directory owned by you; remove it so mrun can create it")
        }
        if info.st_mode & 0o077 != 0 && chmod(path, 0o700) != 0 {
            throw ConfigError.io("cannot make \(path) private (chmod 700)")
        }
    }
}
