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
    var sshUser: String
    var knownHosts: String
    var slurmConf: String
    var root: String
    /// Slurm's job completion log (one line per finished job or array task).
    var jobcomp: String

    struct Missing: Error {}

    /// The `sshd -i` binary, for tests that need a cluster whose PATH lacks a program.
    static let sshd = "/usr/sbin/sshd"

    static func load() async throws -> SlurmTestbed {
        // The one reader of env.sh (``TestBed``); a missing file or value fails naming the component.
        let bed: TestBed
        do {
            bed = try TestBed.load()
        } catch {
            throw Missing()
        }
        func need(_ name: String, _ component: String) throws -> String {
            do {
                return try bed.require(name, component: component)
            } catch {
                throw Missing()
            }
        }
        let testbed = SlurmTestbed(
            sshConfig: try need("MRUN_TEST_SSH_CONFIG", "sshd"), sshHost: try need("MRUN_TEST_SSH_HOST", "sshd"),
            sshUser: try need("MRUN_TEST_SSH_USER", "sshd"),
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

    /// A fresh ssh key of this test's own, authorised for the test user. Other tests and other
    /// processes log in to the shared sshd too; logins with this key are this test's alone.
    func privateKey(in directory: URL) async throws -> (path: String, fingerprint: String) {
        let path = directory.appendingPathComponent("own_ed25519").path
        let made = try await Self.shell([
            "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "mrun-test-own", "-f", path,
        ])
        try #require(made.status == 0, "ssh-keygen: \(made.error)")
        let listed = try await Self.shell(["ssh-keygen", "-l", "-f", path + ".pub"])
        let fingerprint = try #require(listed.output.split(separator: " ").dropFirst().first.map(String.init))
        let authorized = try FileHandle(forWritingTo: URL(fileURLWithPath: root + "/ssh/authorized_keys"))
        defer { try? authorized.close() }
        try authorized.seekToEnd()
        try authorized.write(contentsOf: Data(try String(contentsOfFile: path + ".pub", encoding: .utf8).utf8))
        return (path, fingerprint)
    }

    /// How many logins sshd has accepted with the key whose fingerprint is given.
    func logins(with fingerprint: String) throws -> Int {
        let log = try String(contentsOfFile: sshdLog, encoding: .utf8)
        return log.split(separator: "\n").filter { $0.contains("Accepted publickey") && $0.contains(fingerprint) }.count
    }

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
        return (status, result.standardOutput, result.standardError)
    }
}

/// A sandbox with a slurm context `tb` on the test bed, shipping under a directory of its own: over
/// ssh as the test user, or with `loginNode` here, with the sandbox's home as the home. Run as
/// root, the tests run mrun on the "login node" as the test user (a `sacct -c` by root would make
/// the job completion log unreadable to it; scripts/testbed/slurm.sh explains).
struct SlurmSandbox {
    let sandbox: Sandbox
    let testbed: SlurmTestbed
    /// Relative to the remote home (the sandbox's home with `loginNode`).
    let workdir: String
    let loginNode: Bool

    init(
        contextFlags: [String] = [], host: String? = nil, sshConfig: String? = nil, workdir: String? = nil,
        sandbox: Sandbox? = nil, loginNode: Bool = false
    ) async throws {
        testbed = try await SlurmTestbed.load()
        self.sandbox = try sandbox ?? Sandbox()
        self.workdir = workdir ?? Self.newWorkdir()
        self.loginNode = loginNode
        if loginNode && getuid() == 0 {
            let chown = try await SlurmTestbed.shell(["chown", "-R", "\(testbed.sshUser):", self.sandbox.root.path])
            try #require(chown.status == 0, "\(chown.error)")
        }
        let target =
            loginNode
            ? ["--login_node", "true"]
            : ["--host", host ?? testbed.sshHost, "--ssh_config", sshConfig ?? testbed.sshConfig]
        let added = try await run(
            ["context", "add", "--name", "tb", "--type", "slurm", "--workdir", self.workdir] + target + contextFlags)
        try #require(added.status == 0, "\(added.standardError)")
    }

    static func newWorkdir() -> String {
        "mrun-tests/\(UUID().uuidString.prefix(8).lowercased())"
    }

    func mrun(_ arguments: [String], environment: [String: String] = [:]) async throws -> CLIResult {
        try await run(["--context", "tb"] + arguments, environment: environment)
    }

    /// On the login node, mrun runs as the test user, and the Slurm commands it runs need the test
    /// bed's config (sbatch passes it on to the job).
    private func run(_ arguments: [String], environment: [String: String] = [:]) async throws -> CLIResult {
        guard loginNode else { return try await CLI.run(arguments, sandbox: sandbox, environment: environment) }
        var arguments = arguments
        var variables = ["SLURM_CONF": testbed.slurmConf].merging(environment) { $1 }
        if getuid() == 0 {
            let user = testbed.sshUser
            arguments = ["--reuid=\(user)", "--regid=\(user)", "--init-groups", try CLI.binary.path] + arguments
            variables["MRUN_WRAPPER"] = "/usr/bin/setpriv"
        }
        return try await CLI.run(arguments, sandbox: sandbox, environment: variables)
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
        if loginNode {
            try? FileManager.default.removeItem(at: sandbox.home.appendingPathComponent(workdir))
        } else {
            _ = try await testbed.remote("rm -rf -- '\(workdir)'")
        }
    }

    /// Waits until Slurm has forgotten the jobs (`MinJobAge` after they end, plus its purge
    /// interval), so only accounting knows them.
    func waitUntilForgotten(_ ids: [String], timeout: Duration = .seconds(150)) async throws {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        let check = ids.map { "scontrol -o show job \($0) >/dev/null 2>&1 && exit 1" }.joined(separator: "\n")
        while clock.now < deadline {
            if try await testbed.remote(check + "\nexit 0").status == 0 { return }
            try await Task.sleep(for: .seconds(1))
        }
        Issue.record("Slurm still holds one of the jobs \(ids) after \(timeout)")
    }
}
