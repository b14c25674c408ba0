import Foundation
import MrunKit
import Subprocess
import Testing

/// Tests against the test bed, one at a time: the cluster has two CPUs, and a test counts the
/// logins sshd accepts during one `mrun run`.
@Suite(.serialized) struct SlurmTests {}

/// The real single-node Slurm cluster and sshd started by `scripts/testbed/up.sh slurm sshd`, as
/// `$MRUN_TESTBED/env.sh` describes them. A missing or stopped component fails the test, naming it.
struct SlurmTestbed {
    var sshConfig: String
    var sshHost: String
    var knownHosts: String
    var slurmConf: String
    var root: String
    /// Slurm's job completion log (one line per finished job or array task).
    var jobcomp: String

    struct Missing: Error {}

    static var envFile: String {
        let root = ProcessInfo.processInfo.environment["MRUN_TESTBED"].flatMap { $0.isEmpty ? nil : $0 }
        return (root ?? "/var/tmp/mrun-testbed") + "/env.sh"
    }

    /// The `sshd -i` binary, for tests that need a cluster whose PATH lacks a program.
    static let sshd = "/usr/sbin/sshd"

    static func load() async throws -> SlurmTestbed {
        let file = envFile
        guard FileManager.default.fileExists(atPath: file) else {
            throw fail("\(file) does not exist: the test bed is not set up; run scripts/testbed/up.sh slurm sshd")
        }
        // Sourced by bash, so the file's shell quoting is read exactly as the scripts wrote it.
        let sourced = try await shell(["bash", "-c", ". \"$1\" && env -0", "bash", file])
        var variables: [String: String] = [:]
        for entry in sourced.output.split(separator: "\0") {
            guard let equals = entry.firstIndex(of: "=") else { continue }
            variables[String(entry[..<equals])] = String(entry[entry.index(after: equals)...])
        }
        func need(_ name: String, _ component: String) throws -> String {
            guard let value = variables[name], !value.isEmpty else {
                throw fail(
                    "test bed component '\(component)' is missing: \(name) is not set in \(file);"
                        + " run scripts/testbed/up.sh slurm sshd")
            }
            return value
        }
        let testbed = SlurmTestbed(
            sshConfig: try need("MRUN_TEST_SSH_CONFIG", "sshd"), sshHost: try need("MRUN_TEST_SSH_HOST", "sshd"),
            knownHosts: try need("MRUN_TEST_SSH_KNOWN_HOSTS", "sshd"),
            slurmConf: try need("SLURM_CONF", "slurm"), root: try need("MRUN_TESTBED", "test bed"),
            jobcomp: try need("MRUN_TEST_SLURM_JOBCOMP", "slurm"))
        let ping = try await testbed.remote("scontrol ping")
        if ping.status == 255 {
            throw fail("test bed component 'sshd' is down: \(ping.error); run scripts/testbed/up.sh slurm sshd")
        }
        if ping.status != 0 || !ping.output.contains("UP") {
            throw fail(
                "test bed component 'slurm' is down (scontrol ping: \(ping.output)\(ping.error));"
                    + " run scripts/testbed/up.sh slurm sshd")
        }
        return testbed
    }

    /// Runs `command` on the cluster as the test user, outside mrun, to check what mrun did.
    func remote(_ command: String) async throws -> (status: Int32, output: String, error: String) {
        try await Self.shell(["ssh", "-F", sshConfig, sshHost, command])
    }

    var sshdLog: String { root + "/logs/sshd.log" }

    static func fail(_ message: String) -> Missing {
        Issue.record(Comment(rawValue: message))
        return Missing()
    }

    static func shell(_ argv: [String], environment: [String: String]? = nil) async throws
        -> (status: Int32, output: String, error: String)
    {
        let result = try await Subprocess.run(
            .name(argv[0]), arguments: Arguments(Array(argv.dropFirst())),
            environment: environment.map { variables in
                .custom(Dictionary(uniqueKeysWithValues: variables.map { (Environment.Key(stringLiteral: $0), $1) }))
            } ?? .inherit,
            output: .string(limit: 1 << 24), error: .string(limit: 1 << 24))
        let status: Int32
        switch result.terminationStatus {
        case .exited(let code): status = code
        case .signaled(let signal): status = 128 + signal
        }
        return (status, result.standardOutput ?? "", result.standardError ?? "")
    }
}

/// A sandbox with a slurm context `tb` on the test bed, shipping under a directory of its own.
struct SlurmSandbox {
    let sandbox: Sandbox
    let testbed: SlurmTestbed
    /// Relative to the remote home.
    let workdir: String

    init(
        contextFlags: [String] = [], host: String? = nil, sshConfig: String? = nil, workdir: String? = nil,
        sandbox: Sandbox? = nil
    ) async throws {
        testbed = try await SlurmTestbed.load()
        self.sandbox = try sandbox ?? Sandbox()
        self.workdir = workdir ?? "mrun-tests/\(UUID().uuidString.prefix(8).lowercased())"
        let added = try await CLI.run(
            [
                "context", "add", "--name", "tb", "--type", "slurm", "--host", host ?? testbed.sshHost,
                "--ssh_config", sshConfig ?? testbed.sshConfig, "--workdir", self.workdir,
            ] + contextFlags, sandbox: self.sandbox)
        try #require(added.status == 0, "\(added.standardError)")
    }

    func mrun(_ arguments: [String], environment: [String: String] = [:]) async throws -> CLIResult {
        try await CLI.run(["--context", "tb"] + arguments, sandbox: sandbox, environment: environment)
    }

    /// `mrun run`, returning what it printed and the job id it submitted.
    func submit(_ arguments: [String], environment: [String: String] = [:]) async throws -> (CLIResult, String) {
        let result = try await mrun(["run"] + arguments, environment: environment)
        try #require(result.status == 0, "mrun run failed: \(result.standardError)")
        let line = result.standardOutput.split(separator: "\n").first { $0.hasPrefix("Submitted job ") }
        let id = try #require(line?.split(separator: " ").dropFirst(2).first.map(String.init))
        return (result, id)
    }

    /// The `State` line of `mrun status`, e.g. `COMPLETED, exit code 0`.
    func state(_ id: String) async throws -> String {
        let status = try await mrun(["status", id])
        try #require(status.status == 0, "mrun status failed: \(status.standardError)")
        let line = status.standardOutput.split(separator: "\n").first { $0.hasPrefix("State") }
        return line.map { $0.dropFirst("State".count).trimmingCharacters(in: .whitespaces) } ?? ""
    }

    /// Polls `mrun status` until the state starts with one of `states`; returns it.
    func waitFor(_ id: String, _ states: [String], timeout: Duration = .seconds(90)) async throws -> String {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        var state = ""
        while clock.now < deadline {
            state = try await self.state(id)
            if states.contains(where: state.hasPrefix) { return state }
            try await Task.sleep(for: .milliseconds(250))
        }
        Issue.record("job \(id) is still \(state) after \(timeout), expected \(states)")
        return state
    }

    func waitForEnd(_ id: String) async throws -> String {
        try await waitFor(id, ["COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "OUT_OF_MEMORY", "NODE_FAIL"])
    }

    /// Removes what the test shipped to the cluster.
    func cleanUp() async throws {
        _ = try await testbed.remote("rm -rf -- '\(workdir)'")
    }
}
