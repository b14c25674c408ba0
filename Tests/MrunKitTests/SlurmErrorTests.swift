import Foundation
import Testing

@testable import MrunKit
@testable import KubernetesAPI
@testable import MrunBackends
@testable import MrunConfig
@testable import MrunHistory
@testable import MrunPlan
@testable import MrunSupport
@testable import MrunTemplates

/// What goes wrong on the way to a Slurm cluster is one clear line, against the real test bed.
extension SlurmTests {
    @Suite struct Failures {
        static let script = "import os\nprint('ran in', os.getcwd())\n"

        /// The error line, after checking it is mrun's last output and a single line.
        func failure(_ result: CLIResult) -> String {
            #expect(result.status == 1, "mrun should fail: \(result.standardOutput)")
            let lines = result.standardError.split(separator: "\n", omittingEmptySubsequences: false)
            #expect(lines.last == "", "stderr ends with a newline")
            let last = lines.dropLast().last.map(String.init) ?? ""
            #expect(last.hasPrefix("error: "), "\(result.standardError)")
            #expect(!result.standardError.contains("Swift/") && !result.standardError.contains("Fatal"))
            return last
        }

        @Test func unknownPartitionIsRejectedAtSubmission() async throws {
            let slurm = try await SlurmSandbox(contextFlags: ["--partition", "nope"])
            try slurm.sandbox.write(Self.script, to: "exp.py")
            let error = failure(try await slurm.mrun(["run", "exp.py"]))
            #expect(
                error == "error: sbatch on \(slurm.testbed.sshHost) rejected the job: Invalid partition name specified")
            try await slurm.cleanUp()
        }

        @Test func impossibleResourcesAreRejectedAtSubmission() async throws {
            let slurm = try await SlurmSandbox()
            try slurm.sandbox.write(Self.script, to: "exp.py")
            let error = failure(try await slurm.mrun(["run", "--resources", "gpu=8", "exp.py"]))
            #expect(
                error == "error: sbatch on \(slurm.testbed.sshHost) rejected the job:"
                    + " Requested node configuration is not available")
            try await slurm.cleanUp()
        }

        @Test func unreachableHostIsNamed() async throws {
            let sandbox = try Sandbox()
            let config = try sandbox.write(
                """
                Host *
                    BatchMode yes
                    ConnectTimeout 5
                    IdentityAgent none
                    StrictHostKeyChecking yes
                    UserKnownHostsFile /dev/null
                    GlobalKnownHostsFile /dev/null
                """, to: "ssh/config", in: sandbox.root)
            let slurm = try await SlurmSandbox(host: "mrun-test@127.0.0.1:9", sshConfig: config.path, sandbox: sandbox)
            try sandbox.write(Self.script, to: "exp.py")
            let result = try await slurm.mrun(["run", "exp.py"])
            #expect(
                result.standardError
                    == "error: cannot reach mrun-test@127.0.0.1:9 over ssh: connect to host 127.0.0.1 port 9:"
                    + " Connection refused; check the host name, port and network\n")
            #expect(result.status == 1)
        }

        @Test func refusedLoginIsNamedAndIdentityFileIsUsed() async throws {
            let testbed = try await SlurmTestbed.load()
            let sandbox = try Sandbox()
            let key = sandbox.root.appendingPathComponent("ssh/wrong_key")
            try FileManager.default.createDirectory(
                at: key.deletingLastPathComponent(), withIntermediateDirectories: true)
            let keygen = try await SlurmTestbed.shell(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key.path])
            try #require(keygen.status == 0, "\(keygen.error)")
            // The test bed's host, without a key of its own: the key comes from the context.
            let config = try sandbox.write(
                """
                Host mrun-testbed
                    HostName 127.0.0.1
                    Port 2222
                    User mrun-test
                    IdentitiesOnly yes
                    IdentityAgent none
                    StrictHostKeyChecking yes
                    UserKnownHostsFile \(testbed.knownHosts)
                    GlobalKnownHostsFile /dev/null
                    BatchMode yes
                """, to: "ssh/config", in: sandbox.root)
            let slurm = try await SlurmSandbox(
                contextFlags: ["--identity_file", key.path], host: "mrun-testbed", sshConfig: config.path,
                sandbox: sandbox)
            try sandbox.write(Self.script, to: "exp.py")
            let result = try await slurm.mrun(["run", "exp.py"])
            #expect(
                result.standardError
                    == "error: mrun-testbed refused the ssh login: mrun-test@127.0.0.1: Permission denied (publickey);"
                    + " check identity_file, your ssh agent and the user name\n")

            let rightKey = URL(fileURLWithPath: testbed.sshConfig).deletingLastPathComponent()
                .appendingPathComponent("id_ed25519").path
            _ = try await CLI.run(["context", "delete", "tb"], sandbox: sandbox)
            let good = try await SlurmSandbox(
                contextFlags: ["--identity_file", rightKey], host: "mrun-testbed", sshConfig: config.path,
                sandbox: sandbox)
            let list = try await good.mrun(["list", "--all"])
            #expect(list.status == 0, "identity_file reaches ssh as -i: \(list.standardError)")
        }

        @Test func unwritableWorkdirIsNamed() async throws {
            let slurm = try await SlurmSandbox(workdir: "/")
            try slurm.sandbox.write(Self.script, to: "exp.py")
            let result = try await slurm.mrun(["run", "exp.py"])
            let error = failure(result)
            #expect(error.hasPrefix("error: cannot create the job directory /project/exp-"), "\(error)")
            #expect(
                error.hasSuffix(
                    " on \(slurm.testbed.sshHost): Permission denied; set the context's 'workdir' to a writable directory"
                ))
            #expect(result.standardError.split(separator: "\n").count == 1)
        }

        @Test func missingSbatchIsNamed() async throws {
            let sandbox = try Sandbox()
            let cluster = try await RestrictedCluster(sandbox: sandbox, programs: RestrictedCluster.basics)
            let slurm = try await SlurmSandbox(host: cluster.host, sshConfig: cluster.config, sandbox: sandbox)
            try sandbox.write(Self.script, to: "exp.py")
            let result = try await slurm.mrun(["run", "exp.py"])
            #expect(
                result.standardError
                    == "error: sbatch not found on restricted (not on the PATH of a non-interactive ssh session);"
                    + " is Slurm installed there?\n")
        }

        @Test func withoutRsyncTheCodeGoesByTar() async throws {
            let sandbox = try Sandbox()
            let cluster = try await RestrictedCluster(
                sandbox: sandbox, programs: RestrictedCluster.basics + RestrictedCluster.slurm + ["python3"])
            let slurm = try await SlurmSandbox(host: cluster.host, sshConfig: cluster.config, sandbox: sandbox)
            try sandbox.write(Self.script, to: "exp.py")
            try sandbox.write("x = 1\n", to: "pkg/mod.py")
            let (run, id) = try await slurm.submit(["exp.py"])
            #expect(run.standardError.contains("sent 2 files with tar over ssh"), "\(run.standardError)")
            #expect(try await slurm.waitForEnd(id) == "COMPLETED, exit code 0")
            let logs = try await slurm.mrun(["logs", id])
            #expect(logs.standardOutput.hasPrefix("ran in /"), "\(logs.standardOutput)\(logs.standardError)")
            try await slurm.cleanUp()
        }

        @Test func unknownJobsAndNonSlurmContextsAreNamed() async throws {
            let slurm = try await SlurmSandbox()
            #expect(
                failure(try await slurm.mrun(["status", "999999"]))
                    == "error: no job 999999 on \(slurm.testbed.sshHost) (Slurm may have forgotten it already; see 'mrun list')"
            )
            #expect(failure(try await slurm.mrun(["logs", "12x"])).contains("'12x' is not a Slurm job id"))
            let local = try await CLI.run(["status", "1"], sandbox: slurm.sandbox)
            #expect(
                failure(local)
                    == "error: no launch matches '1'; use an id, an id prefix, an experiment or job name, or a name"
                    + " pattern such as 'train-*'")
            let other = try await CLI.run(["list", "--all"], sandbox: slurm.sandbox)
            #expect(
                failure(other)
                    == "error: context 'local' is of type local; this command works on slurm contexts (choose one with --context)"
            )
        }
    }
}

/// A cluster whose sessions have a PATH of only some programs: `sshd -i` (needs root) as the
/// ssh ProxyCommand, with its own keys, authorising the test bed's user.
struct RestrictedCluster {
    static let basics = ["bash", "sh", "mkdir", "cat", "pwd", "tail", "sleep", "id", "tar", "ln", "rm", "ls", "stat"]
    static let slurm = ["sbatch", "squeue", "scontrol", "scancel", "sacct"]

    let host = "restricted"
    let config: String

    init(sandbox: Sandbox, programs: [String]) async throws {
        let testbed = try await SlurmTestbed.load()
        guard getuid() == 0 else {
            throw SlurmTestbed.fail("the restricted-PATH cluster runs 'sshd -i', which needs root")
        }
        let directory = sandbox.root.appendingPathComponent("restricted")
        let bin = directory.appendingPathComponent("bin")
        try FileManager.default.createDirectory(at: bin, withIntermediateDirectories: true)
        // System directories only: the remote user cannot enter root's own (pyenv shims and the like).
        let path = ["/usr/local/bin", "/usr/bin", "/bin"]
        for program in programs {
            let found = path.map { "\($0)/\(program)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
            try FileManager.default.createSymbolicLink(
                atPath: bin.appendingPathComponent(program).path,
                withDestinationPath: try #require(found, "\(program) is not installed"))
        }
        for key in ["host_key", "client_key"] {
            let made = try await SlurmTestbed.shell(
                ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", directory.appendingPathComponent(key).path])
            try #require(made.status == 0, "\(made.error)")
        }
        let read = { (name: String) in try String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8) }
        try sandbox.write(try read("client_key.pub"), to: "authorized_keys", in: directory)
        let hostKey = try read("host_key.pub").split(separator: " ").prefix(2).joined(separator: " ")
        try sandbox.write("\(host) \(hostKey)\n", to: "known_hosts", in: directory)
        let d = directory.path
        try sandbox.write(
            """
            HostKey \(d)/host_key
            AuthorizedKeysFile \(d)/authorized_keys
            StrictModes no
            AllowUsers mrun-test
            PasswordAuthentication no
            KbdInteractiveAuthentication no
            UsePAM no
            SetEnv PATH=\(bin.path) SLURM_CONF=\(testbed.slurmConf)
            LogLevel ERROR
            """, to: "sshd_config", in: directory)
        config = try sandbox.write(
            """
            Host \(host)
                User mrun-test
                ProxyCommand \(SlurmTestbed.sshd) -i -f \(d)/sshd_config
                IdentityFile \(d)/client_key
                IdentitiesOnly yes
                IdentityAgent none
                StrictHostKeyChecking yes
                UserKnownHostsFile \(d)/known_hosts
                GlobalKnownHostsFile /dev/null
                BatchMode yes
                LogLevel ERROR
            """, to: "config", in: directory
        ).path
    }
}
